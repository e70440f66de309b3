// A disabled trigger silently stops what it enforces: foreign keys (their internal RI triggers),
// the audit trail, qualification, updated_at.
import { sql } from 'slonik';
import { z } from 'zod';
import type { IntegrityCheck } from '../../../core/data-integrity/check.ts';

const row = z.object({ tableName: z.string(), triggerName: z.string(), internal: z.boolean(), enabled: z.string() });

export const triggersDisabled: IntegrityCheck = {
  name: 'triggers-disabled',
  severity: 'critical',
  description: 'Triggers on the platform tables that do not fire in normal operation (disabled, or replica-only).',
  platformOnly: true,
  find: async (tx) => {
    // tgenabled: O and A fire for ordinary sessions; D is disabled, R fires only under replication.
    const rows = await tx.any(sql.type(row)`
      SELECT t.tgrelid::regclass::text AS "tableName", t.tgname AS "triggerName", t.tgisinternal AS internal, t.tgenabled::text AS enabled
        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND t.tgenabled IN ('D', 'R')
       ORDER BY 1, 2`);
    return rows.map(({ tableName, triggerName, internal, enabled }) => ({
      key: `${tableName}.${triggerName}`,
      tenantId: null,
      summary: `${internal ? 'constraint ' : ''}trigger ${triggerName} on ${tableName} is ${enabled === 'D' ? 'disabled' : 'replica-only'}`,
      details: { table: tableName, trigger: triggerName, internal, tgenabled: enabled },
    }));
  },
};
