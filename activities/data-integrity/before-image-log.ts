// Writes the before-image of a row into integrity_fix_log, inside the fix's transaction and before
// the fix changes the row: the fix and its record commit together or not at all.
import { sql, type DatabaseTransactionConnection } from 'slonik';
import { z } from 'zod';
import type { LogBeforeImage } from '../../core/data-integrity/check.ts';

export class RowNotFoundError extends Error {}

export const createBeforeImageLog = (tx: DatabaseTransactionConnection, fixId: string): LogBeforeImage => {
  let position = 0;
  return async (change) => {
    const logged = await tx.maybeOne(sql.type(z.object({ id: z.uuid() }))`
      INSERT INTO integrity_fix_log (fix_id, position, table_name, key_column, row_key, operation, columns, before_image)
      SELECT ${fixId}, ${position}, ${change.table}, ${change.keyColumn}, ${change.key}, ${change.operation},
             ${sql.array([...change.columns ?? []], 'text')}, to_jsonb(t)
        FROM ${sql.identifier(['public', change.table])} AS t WHERE ${sql.identifier(['t', change.keyColumn])}::text = ${change.key}
      RETURNING id`);
    if (logged === null) throw new RowNotFoundError(`${change.table} row ${change.key} no longer exists`);
    position += 1;
  };
};
