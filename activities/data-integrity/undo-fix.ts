// Undoes an applied fix from its before-images, in one transaction and in reverse order: a deleted
// row is inserted again, an updated row gets its logged columns back, an inserted row is deleted, a
// quarantined object is copied back (its quarantine copy is deleted only once the undo committed).
// When the database refuses a restore (say the orphan's parent is still missing), nothing is changed
// and the log is kept. A fix that terminated a workflow is refused whole: it cannot be resumed.
import { sql, type DatabasePool, type DatabaseTransactionConnection } from 'slonik';
import { z } from 'zod';
import type { IntegrityCheck } from '../../core/data-integrity/check.ts';
import { mapDatabaseError } from '../../core/db/map-database-error.ts';
import { FIX_STATUSES } from '../../core/temporal/data-integrity.ts';
import { copyObject, deleteObject, headObject, type Bucket } from './object-moves.ts';
import { keyIn } from './row-key.ts';
import type { IntegrityOutside } from './sources/index.ts';

export class FixNotUndoableError extends Error {
  override name = 'FixNotUndoableError';
}

const logEntry = z.object({
  tableName: z.string().nullable(), keyColumn: z.string().nullable(), rowKey: z.string(),
  operation: z.enum(['insert', 'update', 'delete', 'quarantine-object', 'terminate-workflow']),
  columns: z.array(z.string()), beforeImage: z.record(z.string(), z.unknown()),
});
type LogEntry = z.infer<typeof logEntry>;

const quarantined = z.object({ objectKey: z.string(), quarantineKey: z.string(), etag: z.string() });

/** Copies a quarantined object back; refused when another object took its key meanwhile. */
const restoreObject = async (bucket: Bucket | undefined, fixId: string, image: Record<string, unknown>) => {
  if (bucket === undefined) throw new FixNotUndoableError(`fix ${fixId} moved objects, and this worker has no object store configured`);
  const { objectKey, quarantineKey, etag } = quarantined.parse(image);
  const [original, aside] = await Promise.all([headObject(bucket, objectKey), headObject(bucket, quarantineKey)]);
  if (aside === null) throw new FixNotUndoableError(`fix ${fixId} cannot be undone: the quarantined copy ${quarantineKey} is gone`);
  // The same content back at its key: an earlier attempt of this undo copied it and then rolled back.
  if (original !== null && original.etag !== etag) {
    throw new FixNotUndoableError(`fix ${fixId} cannot be undone: another object now exists at ${objectKey}`);
  }
  if (original === null) await copyObject(bucket, quarantineKey, objectKey);
  return quarantineKey;
};

const restore = async (tx: DatabaseTransactionConnection, entry: LogEntry) => {
  const table = sql.identifier(['public', entry.tableName!]);
  const image = sql.fragment`jsonb_populate_record(NULL::${table}, ${sql.jsonb(JSON.parse(JSON.stringify(entry.beforeImage)))})`;
  if (entry.operation === 'insert') {
    await tx.query(sql.unsafe`DELETE FROM ${table} AS t WHERE ${keyIn('t', entry.tableName!, entry.keyColumn!, [entry.rowKey])}`);
    return;
  }
  if (entry.operation === 'delete') {
    await tx.query(sql.unsafe`INSERT INTO ${table} SELECT * FROM ${image}`);
    return;
  }
  const assignments = entry.columns.map((column) => sql.fragment`${sql.identifier([column])} = ${sql.identifier(['before', column])}`);
  await tx.query(sql.unsafe`
    UPDATE ${table} AS t SET ${sql.join(assignments, sql.fragment`, `)} FROM ${image} AS before
     WHERE ${keyIn('t', entry.tableName!, entry.keyColumn!, [entry.rowKey])}`);
};

const undoneFix = z.object({ status: z.enum(FIX_STATUSES), checkName: z.string() });

export const undoFix = async (
  maintenance: DatabasePool, checks: readonly IntegrityCheck[], fixId: string, actor: string, outside?: IntegrityOutside,
): Promise<void> => {
  let setAside: string[] = [];
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
      const terminated = entries.find((entry) => entry.operation === 'terminate-workflow');
      if (terminated !== undefined) {
        throw new FixNotUndoableError(`fix ${fixId} terminated workflow ${terminated.rowKey}; a terminated workflow cannot be resumed (the lead's next message starts a new one)`);
      }
      setAside = [];
      for (const entry of entries) {
        if (entry.operation === 'quarantine-object') setAside.push(await restoreObject(outside?.storage, fixId, entry.beforeImage));
        else await restore(tx, entry);
      }
      await tx.query(sql.unsafe`UPDATE integrity_fixes SET status = 'undone', undone_at = now(), undone_by = left(${actor}, 200) WHERE id = ${fixId}`);
    });
  } catch (error) {
    if (error instanceof FixNotUndoableError) throw error;
    const mapped = mapDatabaseError(error);
    throw new FixNotUndoableError(`fix ${fixId} cannot be undone: ${mapped instanceof Error ? mapped.message : String(mapped)}`);
  }
  // Only once the undo committed: until then the quarantined copy is what a retry restores from. A
  // copy left by a failed delete is harmless (outside every tenant's prefix) and the undo stands.
  await Promise.all(setAside.map((key) => deleteObject(outside!.storage!, key).catch(() => undefined)));
};
