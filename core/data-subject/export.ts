// The export of one person's data (LGPD art. 18, GDPR art. 15 and 20): one JSON document with a
// versioned shape, documented in docs/data-subject.md. A new field is added with a new version.
import { sql } from 'slonik';
import { z } from 'zod';
import type { TenantTransaction } from '../db/with-tenant.ts';
import { allHoldings, HOLDING_TABLES, matchSubject, type HoldingTable } from './holdings.ts';
import type { DataSubject } from './subject.ts';

export const EXPORT_FORMAT = 'botinteligente.data-subject-export';
export const EXPORT_VERSION = 1;

const row = z.record(z.string(), z.unknown());

export const dataSubjectExport = z.object({
  format: z.literal(EXPORT_FORMAT),
  version: z.literal(EXPORT_VERSION),
  tenantId: z.uuid(),
  generatedAt: z.string(),
  /** The identifiers the person was found by: the one asked for and those the tenant's rows link to it. */
  identifiers: z.object({ phones: z.array(z.string()), lids: z.array(z.string()), emails: z.array(z.string()), leadIds: z.array(z.uuid()) }),
  /** Every row about the person, per table, every column as stored. */
  tables: z.object(Object.fromEntries(HOLDING_TABLES.map((table) => [table, z.array(row)])) as Record<HoldingTable, z.ZodArray<typeof row>>),
  /** The media objects of their messages: object keys in the platform's bucket (no download links). */
  media: z.array(z.object({ messageId: z.uuid(), objectKey: z.string(), contentType: z.string() })),
});
export type DataSubjectExport = z.infer<typeof dataSubjectExport>;

const now = z.object({ now: z.string() });
const media = z.object({ id: z.uuid(), media_object_key: z.string().nullable(), media_content_type: z.string().nullable() });

/** Reads everything the tenant holds about the person, in one transaction (one consistent view). */
export const exportDataSubject = async (tx: TenantTransaction, tenantId: string, subject: DataSubject): Promise<DataSubjectExport> => {
  const matched = await matchSubject(tx, tenantId, subject);
  const tables = await allHoldings(tx, tenantId, matched);
  const generatedAt = await tx.oneFirst(sql.type(now)`SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS now`);
  return {
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    tenantId,
    generatedAt,
    identifiers: { phones: [...matched.phones], lids: [...matched.lids], emails: [...matched.emails], leadIds: [...matched.leadIds] },
    tables,
    media: tables.lead_messages.map((message) => media.parse(message))
      .flatMap(({ id, media_object_key: objectKey, media_content_type: contentType }) =>
        (objectKey === null || contentType === null ? [] : [{ messageId: id, objectKey, contentType }])),
  };
};

/** Rows per table in an export: what the audit of the export records instead of the data. */
export const exportCounts = (document: DataSubjectExport): Record<string, number> =>
  Object.fromEntries([...Object.entries(document.tables).map(([table, rows]) => [table, rows.length]), ['objects', document.media.length]]);
