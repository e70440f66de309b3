// A foreign key added NOT VALID (or never re-validated) only guards new rows: old ones may point nowhere.
import { sql } from 'slonik';
import { z } from 'zod';
import type { IntegrityCheck } from '../../../core/data-integrity/check.ts';

const row = z.object({ tableName: z.string(), constraintName: z.string() });

export const foreignKeysNotValid: IntegrityCheck = {
  name: 'foreign-keys-not-valid',
  severity: 'critical',
  description: 'Foreign keys of the platform tables that are NOT VALID: rows written before the key was added are unchecked.',
  platformOnly: true,
  find: async (tx) => {
    const rows = await tx.any(sql.type(row)`
      SELECT c.conrelid::regclass::text AS "tableName", c.conname AS "constraintName"
        FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
       WHERE n.nspname = 'public' AND c.contype = 'f' AND NOT c.convalidated
       ORDER BY 1, 2`);
    return rows.map(({ tableName, constraintName }) => ({
      key: `${tableName}.${constraintName}`,
      tenantId: null,
      summary: `foreign key ${constraintName} on ${tableName} is NOT VALID`,
      details: { table: tableName, constraint: constraintName },
    }));
  },
};
