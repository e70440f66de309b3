// A foreign key added NOT VALID (or never re-validated) only guards new rows: old ones may point nowhere.
import { sql } from 'slonik';
import { z } from 'zod';
import { MAX_FINDINGS_PER_CHECK, type IntegrityCheck } from '../../../core/data-integrity/check.ts';
import { findOrphans, listForeignKeys } from './orphaned-rows.ts';

const row = z.object({ tableName: z.string(), constraintName: z.string() });
const notValidKey = z.object({ table: z.string(), constraint: z.string() });

export class ForeignKeyNotValidatedError extends Error {
  override name = 'ForeignKeyNotValidatedError';
}

export const foreignKeysNotValid: IntegrityCheck = {
  name: 'foreign-keys-not-valid',
  severity: 'critical',
  description: 'Foreign keys of the platform tables that are NOT VALID: rows written before the key was added are unchecked.',
  platformOnly: true,
  fix: {
    class: 'auto',
    description: 'VALIDATE the key through integrity_validate_foreign_key (it runs as the table owner), once no row of any tenant points nowhere.',
    appliesTo: () => true,
    irreversible: 'validating a foreign key changes no row, and Postgres cannot mark a validated key NOT VALID again',
    apply: async (tx, finding) => {
      const { table, constraint } = notValidKey.parse(finding.details);
      // Postgres validates as the owner, and RLS is forced on the owner: without a tenant context its
      // scan sees no row and passes whatever is there. So the orphans are looked for first as this
      // role (BYPASSRLS), on every tenant; a NOT VALID key still refuses new orphans meanwhile.
      const key = (await listForeignKeys(tx)).find((candidate) => candidate.childTable === table && candidate.constraintName === constraint);
      const orphans = key === undefined ? [] : await findOrphans(tx, { tenantId: null }, key);
      if (orphans.length > 0) {
        throw new ForeignKeyNotValidatedError(`${table}.${constraint} cannot be validated: ${orphans.length > MAX_FINDINGS_PER_CHECK ? `over ${MAX_FINDINGS_PER_CHECK}` : orphans.length} `
          + `row(s) still point at no parent row, with no safe fix (see orphaned-rows), such as ${orphans[0]!.summary}`);
      }
      await tx.query(sql.unsafe`SELECT integrity_validate_foreign_key(${table}, ${constraint})`);
    },
  },
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
