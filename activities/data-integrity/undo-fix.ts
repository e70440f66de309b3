// Undoes an applied fix from its before-images, in one transaction and in reverse order: a deleted
// row is inserted again, an updated row gets its logged columns back. When the database refuses a
// restore (say the orphan's parent is still missing), nothing is changed and the log is kept.
import { sql, type DatabasePool, type DatabaseTransactionConnection } from 'slonik';
import { z } from 'zod';
import type { IntegrityCheck } from '../../core/data-integrity/check.ts';
import { mapDatabaseError } from '../../core/db/map-database-error.ts';
import { FIX_STATUSES } from '../../core/temporal/data-integrity.ts';

export class FixNotUndoableError extends Error {
  override name = 'FixNotUndoableError';
}

const logEntry = z.object({
  tableName: z.string(), keyColumn: z.string(), rowKey: z.string(), operation: z.enum(['update', 'delete']),
  columns: z.array(z.string()), beforeImage: z.record(z.string(), z.unknown()),
});
type LogEntry = z.infer<typeof logEntry>;

const restore = async (tx: DatabaseTransactionConnection, entry: LogEntry) => {
  const table = sql.identifier(['public', entry.tableName]);
  const image = sql.fragment`jsonb_populate_record(NULL::${table}, ${sql.jsonb(JSON.parse(JSON.stringify(entry.beforeImage)))})`;
  if (entry.operation === 'delete') {
    await tx.query(sql.unsafe`INSERT INTO ${table} SELECT * FROM ${image}`);
    return;
  }
  const assignments = entry.columns.map((column) => sql.fragment`${sql.identifier([column])} = ${sql.identifier(['before', column])}`);
  await tx.query(sql.unsafe`
    UPDATE ${table} AS t SET ${sql.join(assignments, sql.fragment`, `)} FROM ${image} AS before
     WHERE ${sql.identifier(['t', entry.keyColumn])}::text = ${entry.rowKey}`);
};

const undoneFix = z.object({ status: z.enum(FIX_STATUSES), checkName: z.string() });

export const undoFix = async (maintenance: DatabasePool, checks: readonly IntegrityCheck[], fixId: string, actor: string): Promise<void> => {
  try {
    await maintenance.transaction(async (tx) => {
      await tx.query(sql.unsafe`SELECT set_config('app.actor', ${`data-integrity-undo:${actor}`}, true)`);
      const fix = await tx.maybeOne(sql.type(undoneFix)`
        SELECT x.status, f.check_name AS "checkName" FROM integrity_fixes x JOIN integrity_findings f ON f.id = x.finding_id
         WHERE x.id = ${fixId} AND x.applied_at IS NOT NULL FOR UPDATE OF x`);
      if (fix === null || fix.status === 'undone') throw new FixNotUndoableError(`fix ${fixId} was not applied, or is already undone`);
      const irreversible = checks.find((check) => check.name === fix.checkName)?.fix?.irreversible;
      if (irreversible !== undefined) throw new FixNotUndoableError(`fix ${fixId} (${fix.checkName}) cannot be undone: ${irreversible}`);
      const entries = await tx.any(sql.type(logEntry)`
        SELECT table_name AS "tableName", key_column AS "keyColumn", row_key AS "rowKey", operation, columns, before_image AS "beforeImage"
          FROM integrity_fix_log WHERE fix_id = ${fixId} ORDER BY position DESC`);
      for (const entry of entries) await restore(tx, entry);
      await tx.query(sql.unsafe`UPDATE integrity_fixes SET status = 'undone', undone_at = now() WHERE id = ${fixId}`);
    });
  } catch (error) {
    if (error instanceof FixNotUndoableError) throw error;
    const mapped = mapDatabaseError(error);
    throw new FixNotUndoableError(`fix ${fixId} cannot be undone: ${mapped instanceof Error ? mapped.message : String(mapped)}`);
  }
};
