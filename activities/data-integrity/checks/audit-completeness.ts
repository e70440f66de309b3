// Every change of an audited tenant table leaves a data_change_audit row (record_data_change, in
// the changing transaction, stamped with the same now() as the row's updated_at). A change without
// one was made with the audit trigger off or around it. Only rows changed in the last 24 h are
// checked: the hourly run sees every change several times, and the cost stays bounded.
import { sql, type DatabaseTransactionConnection } from 'slonik';
import { z } from 'zod';
import type { Finding, IntegrityCheck } from '../../../core/data-integrity/check.ts';
import { MAX_FINDINGS_PER_CHECK } from '../../../core/data-integrity/check.ts';
import { inScope } from './tenant-filter.ts';

export const AUDIT_WINDOW_HOURS = 24;

/**
 * Tables audited on every insert and update (a trigger calling record_data_change with no WHEN and
 * no column list: api_tokens audits only some changes) that have id, tenant_id and updated_at.
 */
const auditedTables = (tx: DatabaseTransactionConnection) => tx.anyFirst(sql.type(z.object({ table: z.string() }))`
  SELECT DISTINCT c.relname AS "table" FROM pg_trigger t
    JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = 'public' AND t.tgfoid = 'public.record_data_change'::regproc AND t.tgqual IS NULL AND t.tgattr::text = ''
     AND (t.tgtype & 20) = 20
     AND (SELECT count(*) FROM pg_attribute a WHERE a.attrelid = c.oid AND NOT a.attisdropped
           AND a.attname IN ('id', 'tenant_id', 'updated_at')) = 3
   ORDER BY 1`);

const row = z.object({ id: z.uuid(), tenantId: z.uuid(), updatedAt: z.number() });

export const auditCompleteness: IntegrityCheck = {
  name: 'audit-completeness',
  severity: 'critical',
  description: `Every row of an audited tenant table changed in the last ${AUDIT_WINDOW_HOURS} h has its data_change_audit row.`,
  platformOnly: false,
  find: async (tx, scope) => {
    const findings: Finding[] = [];
    for (const table of await auditedTables(tx)) {
      const t = sql.identifier(['t']);
      const rows = await tx.any(sql.type(row)`
        SELECT t.id, t.tenant_id AS "tenantId", t.updated_at AS "updatedAt" FROM ${sql.identifier(['public', table])} AS ${t}
         WHERE t.updated_at > now() - make_interval(hours => ${AUDIT_WINDOW_HOURS}) AND ${inScope(scope, sql.identifier(['t', 'tenant_id']))}
           AND NOT EXISTS (SELECT 1 FROM data_change_audit a
                            WHERE a.tenant_id = t.tenant_id AND a.table_name = ${table} AND a.record_id = t.id AND a.changed_at >= t.updated_at)
         ORDER BY t.tenant_id, t.id LIMIT ${MAX_FINDINGS_PER_CHECK + 1 - findings.length}`);
      findings.push(...rows.map(({ id, tenantId, updatedAt }) => ({
        key: `${table}:${id}`,
        tenantId,
        summary: `${table} row ${id}, changed at ${new Date(updatedAt).toISOString()}, has no audit row for that change`,
        details: { table, id, updatedAt: new Date(updatedAt).toISOString() },
      })));
      if (findings.length > MAX_FINDINGS_PER_CHECK) break;
    }
    return findings;
  },
};
