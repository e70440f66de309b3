// Writes the before-image of a row into integrity_fix_log, inside the fix's transaction and before
// the fix changes the row: the fix and its record commit together or not at all. Objects and
// workflows a fix changes are logged here too (fix-effects.ts), in one sequence with the rows.
import { sql, type DatabaseTransactionConnection } from 'slonik';
import { z } from 'zod';
import type { LogBeforeImage } from '../../core/data-integrity/check.ts';
import { keyIn } from './row-key.ts';

export class RowNotFoundError extends Error {}

// The next position in a fix's log; rows, objects and workflows share one sequence.
const nextPosition = (fixId: string) => sql.fragment`(SELECT coalesce(max(position) + 1, 0) FROM integrity_fix_log WHERE fix_id = ${fixId})`;

/** A log entry for an object moved or a workflow terminated: it names no table. */
export const appendFixLog = async (
  tx: DatabaseTransactionConnection, fixId: string, entry: { operation: 'quarantine-object' | 'terminate-workflow'; rowKey: string; image: Record<string, string | number> },
): Promise<void> => {
  await tx.query(sql.unsafe`
    INSERT INTO integrity_fix_log (fix_id, position, row_key, operation, before_image)
    VALUES (${fixId}, ${nextPosition(fixId)}, ${entry.rowKey}, ${entry.operation}, ${sql.jsonb(entry.image)})`);
};

export const createBeforeImageLog = (tx: DatabaseTransactionConnection, fixId: string): LogBeforeImage => async (change) => {
  const keys = typeof change.key === 'string' ? [change.key] : [...change.key];
  if (keys.length === 0) return;
  const key = sql.identifier(['t', change.keyColumn]);
  const logged = await tx.anyFirst(sql.type(z.object({ rowKey: z.string() }))`
    INSERT INTO integrity_fix_log (fix_id, position, table_name, key_column, row_key, operation, columns, before_image)
    SELECT ${fixId}, ${nextPosition(fixId)} + row_number() OVER (ORDER BY ${key}) - 1, ${change.table}, ${change.keyColumn}, ${key}::text,
           ${change.operation}, ${sql.array([...change.columns ?? []], 'text')}, to_jsonb(t)
      FROM ${sql.identifier(['public', change.table])} AS t WHERE ${keyIn('t', change.table, change.keyColumn, keys)}
    RETURNING row_key AS "rowKey"`);
  if (logged.length !== new Set(keys).size) {
    const missing = keys.filter((wanted) => !logged.includes(wanted));
    throw new RowNotFoundError(`${change.table} row ${missing.join(', ')} no longer exists`);
  }
};
