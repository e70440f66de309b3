// Erasure of one person's data in one tenant transaction (LGPD art. 18, GDPR art. 17): their rows in
// every table of the catalogue, and their data in the audit trail and the integrity records, which
// are redacted (the fact of a change stays, its row images go). The media objects are returned for
// the caller to delete after the commit.
import { sql } from 'slonik';
import { z } from 'zod';
import type { TenantTransaction } from '../db/with-tenant.ts';
import { DATA_SUBJECT_HOLDINGS, HOLDING_TABLES, subjectNeedles, type MatchedSubject } from './holdings.ts';

export type ErasureCounts = Record<string, number>;
export type ErasedRows = { readonly counts: ErasureCounts; readonly objectKeys: readonly string[] };

const count = z.object({ count: z.number().int() });
const mediaKey = z.object({ key: z.string() });
const redacted = z.object({ table_name: z.string(), redacted: z.number().int() });

/** The media keys of the person's messages. */
export const subjectMediaKeys = async (tx: TenantTransaction, tenantId: string, subject: MatchedSubject): Promise<string[]> =>
  [...await tx.anyFirst(sql.type(mediaKey)`
    SELECT media_object_key AS key FROM lead_messages
     WHERE tenant_id = ${tenantId} AND lead_id = ANY(${sql.array([...subject.leadIds], 'uuid')}) AND media_object_key IS NOT NULL ORDER BY 1`)];

/**
 * Deletes the person's rows (counted first: the counts are the export's), then redacts the audit
 * and integrity records that name them. `counts` has one entry per table, `redacted.<table>` per
 * redacted table, and `objects`.
 */
export const eraseSubjectRows = async (tx: TenantTransaction, tenantId: string, subject: MatchedSubject): Promise<ErasedRows> => {
  const objectKeys = await subjectMediaKeys(tx, tenantId, subject);
  const counts: ErasureCounts = {};
  for (const table of HOLDING_TABLES) {
    counts[table] = await tx.oneFirst(sql.type(count)`
      SELECT count(*)::int AS count FROM ${sql.identifier([table])} WHERE tenant_id = ${tenantId} AND ${DATA_SUBJECT_HOLDINGS[table].rows(subject)}`);
  }
  for (const table of HOLDING_TABLES) {
    const holding = DATA_SUBJECT_HOLDINGS[table];
    if (holding.erasedBy === 'delete' && counts[table]! > 0) {
      await tx.query(sql.unsafe`DELETE FROM ${sql.identifier([table])} WHERE tenant_id = ${tenantId} AND ${holding.rows(subject)}`);
    }
  }
  // After the deletes: deleting a lead writes its before-image to data_change_audit, redacted here too.
  for (const { table_name: table, redacted: rows } of await tx.any(sql.type(redacted)`
    SELECT table_name, redacted FROM data_subject_redact(${sql.array([...subject.leadIds], 'uuid')}, ${sql.array(subjectNeedles(subject), 'text')})`)) {
    counts[`redacted.${table}`] = rows;
  }
  counts.objects = objectKeys.length;
  return { counts, objectKeys };
};
