// NULLs the domain forbids where the schema cannot say so: the column is nullable because it is
// NULL in other states of the row, and a trigger, not a constraint, fills it. A row written around
// the trigger (a restore, a manual fix, a disabled trigger) is left with a hole only this finds.
import { sql } from 'slonik';
import { z } from 'zod';
import type { Finding, IntegrityCheck } from '../../../core/data-integrity/check.ts';
import { MAX_FINDINGS_PER_CHECK } from '../../../core/data-integrity/check.ts';
import { inScope } from './tenant-filter.ts';

type Rule = { readonly table: string; readonly column: string; readonly when: ReturnType<typeof sql.fragment>; readonly why: string };

/** Each names the state in which the column must be set (the rows the query returns are those holes). */
export const FORBIDDEN_NULLS: readonly Rule[] = [
  { table: 'leads', column: 'qualified_at', when: sql.fragment`is_qualified AND qualified_at IS NULL`,
    why: 'a qualified lead records when it qualified (leads_qualification sets it)' },
  { table: 'data_change_audit', column: 'new_values', when: sql.fragment`operation IN ('INSERT', 'UPDATE') AND new_values IS NULL`,
    why: 'an insert or update records the row it wrote (record_data_change sets it)' },
  { table: 'data_change_audit', column: 'old_values', when: sql.fragment`operation IN ('UPDATE', 'DELETE') AND old_values IS NULL`,
    why: 'an update or delete records the row it replaced (record_data_change sets it)' },
];

const row = z.object({ id: z.uuid(), tenantId: z.uuid() });

export const forbiddenNulls: IntegrityCheck = {
  name: 'forbidden-nulls',
  severity: 'warning',
  description: `No NULL where the domain requires a value: ${FORBIDDEN_NULLS.map((rule) => `${rule.table}.${rule.column}`).join(', ')}.`,
  platformOnly: false,
  find: async (tx, scope) => {
    const findings: Finding[] = [];
    for (const rule of FORBIDDEN_NULLS) {
      const rows = await tx.any(sql.type(row)`
        SELECT id, tenant_id AS "tenantId" FROM ${sql.identifier(['public', rule.table])}
         WHERE ${rule.when} AND ${inScope(scope, sql.identifier(['tenant_id']))}
         ORDER BY tenant_id, id LIMIT ${MAX_FINDINGS_PER_CHECK + 1 - findings.length}`);
      findings.push(...rows.map(({ id, tenantId }) => ({
        key: `${rule.table}.${rule.column}:${id}`,
        tenantId,
        summary: `${rule.table} row ${id} has no ${rule.column}: ${rule.why}`,
        details: { table: rule.table, column: rule.column, id },
      })));
      if (findings.length > MAX_FINDINGS_PER_CHECK) break;
    }
    return findings;
  },
};
