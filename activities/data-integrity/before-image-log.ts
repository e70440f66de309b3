// Writes the before-image of a row into integrity_fix_log, inside the fix's transaction and before
// the fix changes the row: the fix and its record commit together or not at all.
import { sql, type DatabaseTransactionConnection } from 'slonik';
import { z } from 'zod';
import type { LogBeforeImage } from '../../core/data-integrity/check.ts';
import { keyIn } from './row-key.ts';

export class RowNotFoundError extends Error {}

export const createBeforeImageLog = (tx: DatabaseTransactionConnection, fixId: string): LogBeforeImage => {
  let position = 0;
  return async (change) => {
    const keys = typeof change.key === 'string' ? [change.key] : [...change.key];
    if (keys.length === 0) return;
    const key = sql.identifier(['t', change.keyColumn]);
    const logged = await tx.anyFirst(sql.type(z.object({ rowKey: z.string() }))`
      INSERT INTO integrity_fix_log (fix_id, position, table_name, key_column, row_key, operation, columns, before_image)
      SELECT ${fixId}, ${position} + row_number() OVER (ORDER BY ${key}) - 1, ${change.table}, ${change.keyColumn}, ${key}::text,
             ${change.operation}, ${sql.array([...change.columns ?? []], 'text')}, to_jsonb(t)
        FROM ${sql.identifier(['public', change.table])} AS t WHERE ${keyIn('t', change.table, change.keyColumn, keys)}
      RETURNING row_key AS "rowKey"`);
    if (logged.length !== new Set(keys).size) {
      const missing = keys.filter((wanted) => !logged.includes(wanted));
      throw new RowNotFoundError(`${change.table} row ${missing.join(', ')} no longer exists`);
    }
    position += logged.length;
  };
};
