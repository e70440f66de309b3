// Backups for platform admins: the catalog, a backup now, a restore (into a new database, or over
// the live one after an approval), its status and approval, a drill now, and a backup's manifest.
import { GetObjectCommand, NoSuchKey } from '@aws-sdk/client-s3';
import { WorkflowNotFoundError, type WorkflowExecutionDescription, type WorkflowHandle } from '@temporalio/client';
import { sql } from 'slonik';
import { z } from 'zod';
import { BACKUP_ID } from '../../core/backups/backup-id.ts';
import { manifestKey } from '../../core/object-keys.ts';
import {
  APPROVE_RESTORE_SIGNAL, BACKUP_KINDS, manualBackupWorkflowId, manualDrillWorkflowId, RESTORE_DATABASE_NAME, RESTORE_PHASE_QUERY, RESTORE_PHASES,
  RESTORE_PROGRESS_MEMO, restoreWorkflowId, type RestoreProgress,
} from '../../core/temporal/backups.ts';
import type { ApiDeps } from '../deps.ts';
import type { ApiMetrics } from '../metrics.ts';
import { HttpProblem } from '../problem.ts';
import type { Registry } from '../route.ts';
import { createWorkflowStarter, idempotencyHeaders, startedWorkflow } from '../start-workflow.ts';
import { readWorkflowState } from '../workflow-state.ts';

const restoreProgress = z.object({
  phase: z.enum(RESTORE_PHASES), requestedBy: z.string(), approvedBy: z.string().nullable(), reason: z.string().nullable(),
});

/**
 * A restore's progress from its memo, which its description carries without a worker: the API sets
 * it at the start (so it is there before a busy worker takes the run's first task), the run updates
 * it. Only a run started before the memo existed is asked with a query.
 */
const readRestoreProgress = async (handle: WorkflowHandle, description: WorkflowExecutionDescription): Promise<RestoreProgress> => {
  const memo = restoreProgress.safeParse(description.memo?.[RESTORE_PROGRESS_MEMO]);
  return memo.success ? memo.data : handle.query<RestoreProgress>(RESTORE_PHASE_QUERY);
};

const backupParams = z.strictObject({ backupId: z.string().regex(BACKUP_ID, 'not a backup id such as 20261123T030000Z-1a2b3c4d') });
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

const backupRow = z.object({
  id: z.string(), kind: z.string(), status: z.string(), started_at: z.number(), completed_at: z.number().nullable(), total_bytes: z.string().nullable(),
  failure: z.string().nullable(), verified_at: z.number().nullable(), held_by: z.string().nullable(), held_until: z.number().nullable(),
  drill_passed: z.boolean().nullable(), drill_seconds: z.string().nullable(), drill_at: z.number().nullable(),
});
const backup = z.object({
  id: z.string(), kind: z.enum(BACKUP_KINDS), status: z.enum(['running', 'complete', 'failed', 'deleted']),
  startedAt: z.string(), completedAt: z.string().nullable(), totalBytes: z.number().nullable(), failure: z.string().nullable(), verifiedAt: z.string().nullable(),
  /** A restore that is reading this backup (or awaiting approval to): retention keeps it until then. */
  heldBy: z.string().nullable(), heldUntil: z.string().nullable(),
  lastDrill: z.object({ passed: z.boolean(), restoreSeconds: z.number().nullable(), finishedAt: z.string() }).nullable(),
});
const toBackup = (row: z.infer<typeof backupRow>): z.input<typeof backup> => ({
  id: row.id, kind: row.kind as 'manual', status: row.status as 'complete', startedAt: iso(row.started_at)!, completedAt: iso(row.completed_at),
  totalBytes: row.total_bytes === null ? null : Number(row.total_bytes), failure: row.failure, verifiedAt: iso(row.verified_at),
  heldBy: row.held_by, heldUntil: iso(row.held_until),
  lastDrill: row.drill_at === null ? null : { passed: row.drill_passed!, restoreSeconds: row.drill_seconds === null ? null : Number(row.drill_seconds), finishedAt: iso(row.drill_at)! },
});

const restoreStatus = z.object({
  workflowId: z.string(), status: z.string(), phase: z.string().nullable(), approvedBy: z.string().nullable(),
  result: z.unknown().optional(), failure: z.string().optional(),
});

export const registerBackupRoutes = (registry: Registry, deps: ApiDeps, metrics: ApiMetrics) => {
  const start = createWorkflowStarter(deps, metrics);
  // The catalog is platform data: read with the maintenance role, for platform admins only.
  const catalog = deps.pools.maintenance;
  const selectBackups = (where: ReturnType<typeof sql.fragment>, limit: number) => catalog.any(sql.type(backupRow)`
    SELECT b.id, b.kind, b.status, b.started_at, b.completed_at, b.total_bytes::text, b.failure, b.verified_at, b.held_by, b.held_until,
           d.passed AS drill_passed, d.restore_seconds::text AS drill_seconds, d.finished_at AS drill_at
      FROM backups b LEFT JOIN LATERAL (
        SELECT passed, restore_seconds, finished_at FROM backup_drills WHERE backup_id = b.id ORDER BY finished_at DESC LIMIT 1) d ON true
     WHERE ${where} ORDER BY b.started_at DESC, b.id DESC LIMIT ${limit}`);
  const findBackup = async (backupId: string) => {
    const [row] = await selectBackups(sql.fragment`b.id = ${backupId}`, 1);
    if (!row) throw new HttpProblem(404, 'Not found', 'no such backup');
    return row;
  };

  registry.add({
    method: 'get', path: '/backups', summary: 'List backups, newest first, with their last drill', tag: 'backups', access: 'platform-admin',
    query: z.strictObject({
      status: z.enum(['running', 'complete', 'failed', 'deleted']).optional(),
      limit: z.coerce.number().int().min(1).max(1000).default(100),
    }),
    response: z.object({ items: z.array(backup) }),
  }, async ({ query }) => ({
    items: (await selectBackups(query.status === undefined ? sql.fragment`true` : sql.fragment`b.status = ${query.status}`, query.limit)).map(toBackup),
  }));

  registry.add({
    method: 'get', path: '/backups/:backupId', summary: 'Read a backup', tag: 'backups', access: 'platform-admin', params: backupParams, response: backup,
  }, async ({ params }) => toBackup(await findBackup(params.backupId)));

  registry.add({
    method: 'post', path: '/backups', summary: 'Start a backup now (workflow)', tag: 'backups', access: 'platform-admin',
    headers: idempotencyHeaders, status: 202, response: startedWorkflow,
  }, async ({ headers }) => start('backupDatabase', manualBackupWorkflowId(headers['idempotency-key']!), [{ kind: 'manual' }]));

  registry.add({
    method: 'post', path: '/backup-drills', summary: 'Run the restore drill now on the newest complete backup (workflow)', tag: 'backups',
    access: 'platform-admin', headers: idempotencyHeaders, status: 202, response: startedWorkflow,
  }, async ({ headers }) => start('restoreDrill', manualDrillWorkflowId(headers['idempotency-key']!), []));

  registry.add({
    method: 'get', path: '/backups/:backupId/manifest', summary: 'Download a backup\'s manifest', tag: 'backups', access: 'platform-admin',
    params: backupParams, response: z.record(z.string(), z.unknown()),
  }, async ({ params }) => {
    const row = await findBackup(params.backupId);
    if (row.status !== 'complete') throw new HttpProblem(409, 'No manifest', `backup ${params.backupId} is ${row.status}: only a complete backup has a manifest`);
    try {
      const object = await deps.s3.send(new GetObjectCommand({ Bucket: deps.config.s3.bucket, Key: manifestKey(params.backupId) }));
      return JSON.parse(await object.Body!.transformToString()) as Record<string, unknown>;
    } catch (error) {
      if (error instanceof NoSuchKey) throw new HttpProblem(409, 'No manifest', `the manifest of backup ${params.backupId} is missing from the bucket`);
      throw error;
    }
  });

  registry.add({
    method: 'post', path: '/backups/:backupId/restore',
    summary: 'Restore a backup into a new database, or over the live one (waits for an approval) (workflow restore/<backupId>)',
    tag: 'backups', access: 'platform-admin', params: backupParams, status: 202, response: startedWorkflow,
    body: z.strictObject({
      target: z.union([
        z.strictObject({ database: z.string().regex(RESTORE_DATABASE_NAME, '3 to 63 of a-z 0-9 _, starting with a letter') }),
        z.strictObject({ live: z.literal(true) }),
      ]),
    }),
  }, async ({ params, body, principal }) => {
    const row = await findBackup(params.backupId);
    if (row.status !== 'complete') throw new HttpProblem(409, 'Not restorable', `backup ${params.backupId} is ${row.status}; only a complete backup can be restored`);
    const requestedBy = `api:${principal.tokenId}`;
    const verifying: RestoreProgress = { phase: 'verifying', requestedBy, approvedBy: null, reason: null };
    const started = await start('restoreBackup', restoreWorkflowId(params.backupId), [
      { backupId: params.backupId, target: body.target, requestedBy },
    ], [], { [RESTORE_PROGRESS_MEMO]: verifying });
    if (started.alreadyStarted) throw new HttpProblem(409, 'Restore running', `a restore of ${params.backupId} is running: follow it at GET /api/v1/backups/${params.backupId}/restore`);
    return started;
  });

  registry.add({
    method: 'get', path: '/backups/:backupId/restore', summary: 'Status of the latest restore of a backup', tag: 'backups', access: 'platform-admin',
    params: backupParams, response: restoreStatus,
  }, async ({ params }) => {
    const workflowId = restoreWorkflowId(params.backupId);
    const handle = (await deps.temporal()).workflow.getHandle(workflowId);
    const { description, status, outcome } = await readWorkflowState(handle, 'no restore of this backup');
    const progress = await readRestoreProgress(handle, description).catch(() => null);
    return { workflowId, status, phase: progress?.phase ?? null, approvedBy: progress?.approvedBy ?? null, ...outcome };
  });

  registry.add({
    method: 'post', path: '/backups/:backupId/restore/approval', summary: 'Approve a restore over the live database (with another token than the request\'s)', tag: 'backups',
    access: 'platform-admin', params: backupParams, status: 202, response: z.object({ workflowId: z.string(), approvedBy: z.string() }),
  }, async ({ params, principal }) => {
    const workflowId = restoreWorkflowId(params.backupId);
    const handle = (await deps.temporal()).workflow.getHandle(workflowId);
    const notFound = (error: unknown) => {
      if (error instanceof WorkflowNotFoundError) throw new HttpProblem(404, 'Not found', 'no restore of this backup');
      throw error;
    };
    const description = await handle.describe().catch(notFound);
    if (description.status.name !== 'RUNNING') throw new HttpProblem(409, 'Nothing to approve', `the restore of ${params.backupId} has ended (${description.status.name.toLowerCase()})`);
    const progress = await readRestoreProgress(handle, description).catch(notFound);
    if (progress.phase !== 'awaiting-approval') throw new HttpProblem(409, 'Nothing to approve', `the restore of ${params.backupId} is ${progress.phase}, not awaiting approval`);
    const approvedBy = `api:${principal.tokenId}`;
    // Four eyes: whoever asked for the restore cannot also approve it.
    if (progress.requestedBy === approvedBy) throw new HttpProblem(403, 'Forbidden', 'a restore over the live database is approved with another token than the one that asked for it');
    await handle.signal(APPROVE_RESTORE_SIGNAL, { approvedBy });
    return { workflowId, approvedBy };
  });
};
