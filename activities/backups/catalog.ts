// The `backups` catalog. Written by the maintenance role; no tenant can read it.
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import type { CatalogEntry } from '../../core/backups/retention-plan.ts';
import type { BackupKind } from '../../core/temporal/backups.ts';

export const recordBackupStarted = (pool: DatabasePool, input: { backupId: string; kind: BackupKind; workflowId: string }) =>
  pool.query(sql.unsafe`
    INSERT INTO backups (id, kind, workflow_id) VALUES (${input.backupId}, ${input.kind}, ${input.workflowId})
    ON CONFLICT (id) DO NOTHING`);

export const recordBackupComplete = (pool: DatabasePool, input: { backupId: string; manifestKey: string; totalBytes: number }) =>
  pool.query(sql.unsafe`
    UPDATE backups SET status = 'complete', manifest_key = ${input.manifestKey}, total_bytes = ${input.totalBytes}, completed_at = now()
     WHERE id = ${input.backupId} AND status = 'running'`);

export const recordBackupFailed = (pool: DatabasePool, input: { backupId: string; reason: string }) =>
  pool.query(sql.unsafe`
    UPDATE backups SET status = 'failed', failure = ${input.reason.slice(0, 2000)} WHERE id = ${input.backupId} AND status = 'running'`);

const catalogRow = z.object({ id: z.string(), started_at: z.number(), status: z.string(), verified_at: z.number().nullable(), held_until: z.number().nullable() });

/** Every backup not yet deleted, as retention sees it. */
export const readCatalog = async (pool: DatabasePool): Promise<CatalogEntry[]> =>
  (await pool.any(sql.type(catalogRow)`SELECT id, started_at, status, verified_at, held_until FROM backups WHERE status <> 'deleted' ORDER BY started_at`))
    .map((row) => ({
      id: row.id, createdAt: new Date(row.started_at), complete: row.status === 'complete', verified: row.verified_at !== null,
      heldUntil: row.held_until === null ? null : new Date(row.held_until),
    }));

/**
 * A restore's hold on its backup, until `until` or its release. A backup the catalog does not
 * know (a restore onto a new cluster, from the bucket alone) needs none: retention never saw it.
 */
export const holdBackup = (pool: DatabasePool, input: { backupId: string; holder: string; until: string }) =>
  pool.query(sql.unsafe`
    UPDATE backups SET held_by = ${input.holder}, held_until = ${input.until}::timestamptz WHERE id = ${input.backupId} AND status = 'complete'`);

export const releaseBackup = (pool: DatabasePool, input: { backupId: string; holder: string }) =>
  pool.query(sql.unsafe`UPDATE backups SET held_by = NULL, held_until = NULL WHERE id = ${input.backupId} AND held_by = ${input.holder}`);

export const recordBackupDeleted = (pool: DatabasePool, backupId: string) =>
  pool.query(sql.unsafe`UPDATE backups SET status = 'deleted', deleted_at = now() WHERE id = ${backupId} AND status <> 'deleted'`);

const completeRow = z.object({ id: z.string(), manifest_key: z.string() });

export const newestCompleteBackup = (pool: DatabasePool) =>
  pool.maybeOne(sql.type(completeRow)`SELECT id, manifest_key FROM backups WHERE status = 'complete' ORDER BY started_at DESC, id DESC LIMIT 1`);

export const recordDrill = (pool: DatabasePool, input: {
  backupId: string; workflowId: string; startedAt: string; passed: boolean; restoreSeconds: number | null; details: Record<string, unknown>;
}) => pool.transaction(async (tx) => {
  await tx.query(sql.unsafe`
    INSERT INTO backup_drills (backup_id, workflow_id, started_at, passed, restore_seconds, details)
    VALUES (${input.backupId}, ${input.workflowId}, ${input.startedAt}, ${input.passed}, ${input.restoreSeconds}, ${sql.jsonb(input.details as never)})`);
  if (input.passed) await tx.query(sql.unsafe`UPDATE backups SET verified_at = now() WHERE id = ${input.backupId} AND status = 'complete'`);
});
