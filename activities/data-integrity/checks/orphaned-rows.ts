// Rows whose foreign key points at no row: possible when the key was NOT VALID, its triggers were
// disabled, or rows were loaded around it. One anti-join per foreign key of the platform's tables,
// read from the catalogue, so a new table is covered without a new check.
import { sql, type DatabaseTransactionConnection } from 'slonik';
import { z } from 'zod';
import type { Finding, IntegrityCheck, IntegrityScope } from '../../../core/data-integrity/check.ts';
import { MAX_FINDINGS_PER_CHECK } from '../../../core/data-integrity/check.ts';

const foreignKey = z.object({
  constraintName: z.string(),
  childTable: z.string(),
  parentTable: z.string(),
  childColumns: z.array(z.string()),
  parentColumns: z.array(z.string()),
  hasTenant: z.boolean(),
  keyColumn: z.string().nullable(),
  cascades: z.boolean(),
  referenced: z.boolean(),
});
export type ForeignKey = z.infer<typeof foreignKey>;

const orphan = z.object({ rowKey: z.string(), tenantId: z.uuid().nullable(), values: z.record(z.string(), z.unknown()) });

const deletableOrphan = z.object({ table: z.string(), keyColumn: z.string(), row: z.string(), deletable: z.literal(true) });

const columnsOf = (relation: string, attributes: string) => sql.fragment`
  (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(${sql.identifier(['c', attributes])}) WITH ORDINALITY k(attnum, ord)
     JOIN pg_attribute a ON a.attrelid = ${sql.identifier(['c', relation])} AND a.attnum = k.attnum)`;

export const listForeignKeys = (tx: DatabaseTransactionConnection) => tx.any(sql.type(foreignKey)`
  SELECT c.conname AS "constraintName", child.relname AS "childTable", parent.relname AS "parentTable",
         ${columnsOf('conrelid', 'conkey')} AS "childColumns", ${columnsOf('confrelid', 'confkey')} AS "parentColumns",
         EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.conrelid AND a.attname = 'tenant_id' AND NOT a.attisdropped) AS "hasTenant",
         (SELECT a.attname::text FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
           WHERE i.indrelid = c.conrelid AND i.indisprimary AND i.indnatts = 1) AS "keyColumn",
         c.confdeltype = 'c' AS cascades,
         EXISTS (SELECT 1 FROM pg_constraint r WHERE r.contype = 'f' AND r.confrelid = c.conrelid) AS referenced
    FROM pg_constraint c
    JOIN pg_namespace n ON n.oid = c.connamespace
    JOIN pg_class child ON child.oid = c.conrelid
    JOIN pg_class parent ON parent.oid = c.confrelid
   WHERE n.nspname = 'public' AND c.contype = 'f'
   ORDER BY 2, 1`);

/**
 * The orphans of one key in two steps: first the child's distinct keys that match no parent (an
 * anti-join of two indexes, index-only where the child has an index on its key columns: the child's
 * heap is never read), then the rows holding those keys, through the same index. Anti-joining the
 * rows themselves read the whole heap of lead_messages every hour to find a handful of keys.
 */
export const findOrphans = async (tx: DatabaseTransactionConnection, scope: IntegrityScope, key: ForeignKey): Promise<Finding[]> => {
  const child = (column: string) => sql.identifier(['child', column]);
  const keyColumnsOf = (alias: string) => sql.join(key.childColumns.map((column) => sql.identifier([alias, column])), sql.fragment`, `);
  const tenant = key.hasTenant ? child('tenant_id') : sql.fragment`NULL::uuid`;
  const scoped = scope.tenantId === null ? sql.fragment`TRUE` : sql.fragment`child.tenant_id = ${scope.tenantId}`;
  const rowKey = key.keyColumn === null ? sql.fragment`child.ctid::text` : sql.fragment`${child(key.keyColumn)}::text`;
  const rows = await tx.any(sql.type(orphan)`
    SELECT ${rowKey} AS "rowKey", ${tenant} AS "tenantId",
           jsonb_build_object(${sql.join(key.childColumns.map((column) => sql.fragment`${column}::text, ${child(column)}`), sql.fragment`, `)}) AS values
      FROM (
        SELECT ${keyColumnsOf('keys')} FROM (
          SELECT DISTINCT ${keyColumnsOf('child')} FROM ${sql.identifier(['public', key.childTable])} AS child
           WHERE ${sql.join(key.childColumns.map((column) => sql.fragment`${child(column)} IS NOT NULL`), sql.fragment` AND `)} AND ${scoped}) AS keys
         WHERE NOT EXISTS (
           SELECT 1 FROM ${sql.identifier(['public', key.parentTable])} AS parent
            WHERE ${sql.join(key.childColumns.map((column, index) =>
              sql.fragment`${sql.identifier(['parent', key.parentColumns[index]!])} = ${sql.identifier(['keys', column])}`), sql.fragment` AND `)})
         LIMIT ${MAX_FINDINGS_PER_CHECK + 1}) AS missing
      JOIN ${sql.identifier(['public', key.childTable])} AS child
        ON ${sql.join(key.childColumns.map((column) => sql.fragment`${child(column)} = ${sql.identifier(['missing', column])}`), sql.fragment` AND `)}
     WHERE ${scoped}
     LIMIT ${MAX_FINDINGS_PER_CHECK + 1}`);
  return rows.map(({ rowKey, tenantId, values }) => ({
    key: `${key.childTable}:${rowKey}:${key.constraintName}`,
    tenantId,
    summary: `${key.childTable} row ${rowKey} points at no ${key.parentTable} row (${key.constraintName})`,
    details: {
      table: key.childTable, row: rowKey, keyColumn: key.keyColumn, constraint: key.constraintName, parentTable: key.parentTable, values,
      // The row's delete is exactly what ON DELETE CASCADE would have done, and touches no other row.
      deletable: key.keyColumn !== null && key.cascades && !key.referenced,
    },
  }));
};

export const orphanedRows: IntegrityCheck = {
  name: 'orphaned-rows',
  severity: 'critical',
  description: 'Rows whose foreign-key columns are set but match no row of the referenced table.',
  platformOnly: false,
  fix: {
    class: 'auto',
    description: 'Delete the orphan, as its ON DELETE CASCADE key would have when the parent went; only for keys that cascade, on rows nothing else references.',
    appliesTo: (finding) => finding.details.deletable === true,
    apply: async (tx, finding, logBeforeImage) => {
      const { table, keyColumn, row } = deletableOrphan.parse(finding.details);
      await logBeforeImage({ table, keyColumn, key: row, operation: 'delete' });
      await tx.query(sql.unsafe`DELETE FROM ${sql.identifier(['public', table])} WHERE ${sql.identifier([keyColumn])}::text = ${row}`);
    },
  },
  find: async (tx, scope) => {
    const keys = (await listForeignKeys(tx)).filter((key) => scope.tenantId === null || key.hasTenant);
    const findings: Finding[] = [];
    for (const key of keys) {
      if (findings.length > MAX_FINDINGS_PER_CHECK) break;
      findings.push(...await findOrphans(tx, scope, key));
    }
    return findings;
  },
};
