// Writes the before-image of a row into integrity_fix_log, inside the fix's transaction and before
// the fix changes the row: the fix and its record commit together or not at all. Objects and
// workflows a fix changes are logged here too (fix-effects.ts), in one sequence with the rows.
import { sql, type DatabaseTransactionConnection } from 'slonik';
import { z } from 'zod';
import type { LogBeforeImage } from '../../core/data-integrity/check.ts';

export class RowNotFoundError extends Error {}

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
  const logged = await tx.maybeOne(sql.type(z.object({ id: z.uuid() }))`
    INSERT INTO integrity_fix_log (fix_id, position, table_name, key_column, row_key, operation, columns, before_image)
    SELECT ${fixId}, ${nextPosition(fixId)}, ${change.table}, ${change.keyColumn}, ${change.key}, ${change.operation},
           ${sql.array([...change.columns ?? []], 'text')}, to_jsonb(t)
      FROM ${sql.identifier(['public', change.table])} AS t WHERE ${sql.identifier(['t', change.keyColumn])}::text = ${change.key}
    RETURNING id`);
  if (logged === null) throw new RowNotFoundError(`${change.table} row ${change.key} no longer exists`);
};
