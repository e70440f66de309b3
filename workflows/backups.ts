import {
  ApplicationFailure, condition, defineQuery, defineSignal, executeChild, patched, proxyActivities, setHandler, upsertMemo, uuid4, workflowInfo,
} from '@temporalio/workflow';
import type { BackupActivities } from '../activities/backups/index.ts';
import type { PlatformEventActivities } from '../activities/platform-events.ts';
import { newBackupId } from '../core/backups/backup-id.ts';
import type { SessionEntry } from '../core/backups/manifest.ts';
import {
  APPROVE_RESTORE_SIGNAL, drillDatabaseName, RESTORE_DATABASE_NAME, RESTORE_PHASE_QUERY, RESTORE_PROGRESS_MEMO, restoreWorkflowId, stagingDatabaseName,
  type BackupKind, type RestoreApproval, type RestoreInput, type RestorePhase, type RestoreProgress,
} from '../core/temporal/backups.ts';
import { sessionsObjectKey } from '../core/object-keys.ts';
import { failureReason } from '../core/temporal/failure-reason.ts';
import { botPodTaskQueue, type BotPodActivities } from '../core/temporal/bot-pod.ts';

const REFUSED = ['BackupRefusedError', 'EncryptionKeyError', 'IntegrityError'];

const quick = proxyActivities<BackupActivities & PlatformEventActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', nonRetryableErrorTypes: REFUSED },
});
// Long streaming work: progress is heartbeated, so a stuck dump or restore is noticed and retried.
const streaming = proxyActivities<BackupActivities>({
  startToCloseTimeout: '6 hours',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 10, nonRetryableErrorTypes: REFUSED },
});

const snapshotSessions = async (backupId: string): Promise<SessionEntry[]> => {
  const { tenantIds, timeoutSeconds } = await quick.sessionTenants();
  return Promise.all(tenantIds.map(async (tenantId): Promise<SessionEntry> => {
    const pod = proxyActivities<BotPodActivities>({
      taskQueue: botPodTaskQueue(tenantId),
      scheduleToCloseTimeout: `${timeoutSeconds} seconds`,
      retry: { initialInterval: '2 seconds', maximumInterval: '30 seconds' },
    });
    try {
      const snapshot = await pod.snapshotSessions({ tenantId, objectKey: sessionsObjectKey(backupId, tenantId) });
      return { tenantId, object: { key: snapshot.objectKey, bytes: snapshot.bytes, sha256: snapshot.sha256 }, files: snapshot.files };
    } catch (error) {
      return { tenantId, missing: failureReason(error) };
    }
  }));
};

export type BackupResult = {
  backupId: string; manifestKey: string; totalBytes: number; missingSessions: string[];
  retention?: { deleted: string[]; unclaimedObjects: readonly string[] } | { failed: string };
};

/**
 * One backup: the database dump, every tenant's sessions through its own pod, then the manifest
 * (written last: without it the backup is incomplete). Nightly runs then apply retention.
 */
export async function backupDatabase(input: { kind: BackupKind }): Promise<BackupResult> {
  const startedAt = new Date();
  const backupId = newBackupId(startedAt, uuid4().replace(/-/g, ''));
  await quick.beginBackup({ backupId, kind: input.kind, workflowId: workflowInfo().workflowId });
  let result: BackupResult;
  try {
    const dump = await streaming.backUpDatabase({ backupId });
    const sessions = await snapshotSessions(backupId);
    const manifest = await quick.writeManifest({ backupId, kind: input.kind, startedAt: startedAt.toISOString(), dump, sessions });
    const missingSessions = sessions.flatMap((entry) => ('missing' in entry ? [entry.tenantId] : []));
    await quick.completeBackup({ backupId, kind: input.kind, ...manifest, missingSessions });
    result = { backupId, ...manifest, missingSessions };
  } catch (error) {
    await quick.failBackup({ backupId, kind: input.kind, reason: failureReason(error) });
    throw ApplicationFailure.nonRetryable(`backup ${backupId} failed: ${failureReason(error)}`, 'BackupFailed');
  }
  if (input.kind !== 'nightly') return result;
  try {
    const retention = await backupRetention();
    return { ...result, retention: { deleted: retention.deleted, unclaimedObjects: retention.unclaimedObjects } };
  } catch (error) {
    return { ...result, retention: { failed: failureReason(error) } };
  }
}

/** Retention at the workflow's clock (time-skipping tests move it). */
export async function backupRetention() {
  return quick.applyBackupRetention({ now: new Date().toISOString() });
}

export const approveRestore = defineSignal<[RestoreApproval]>(APPROVE_RESTORE_SIGNAL);
export const restorePhase = defineQuery<RestoreProgress>(RESTORE_PHASE_QUERY);
const APPROVAL_WINDOW = '7 days';
// Outlasts the approval window and a restore; a restore that was terminated never releases its hold.
const HOLD_MS = 8 * 24 * 60 * 60 * 1000;

/**
 * `restore/<backupId>`: verify every object, then restore into a new database; over the live
 * database only after an approval signal and a safety backup, by swapping a restored copy in.
 */
export async function restoreBackup(input: RestoreInput) {
  let phase: RestorePhase = 'verifying';
  let approval: RestoreApproval | null = null;
  let reason: string | null = null;
  const progress = (): RestoreProgress => ({ phase, requestedBy: input.requestedBy, approvedBy: approval?.approvedBy ?? null, reason });
  // Runs recorded before the memo existed replay without it.
  const progressInMemo = patched('restore-progress-in-memo');
  const enter = (next: RestorePhase) => {
    phase = next;
    if (progressInMemo) upsertMemo({ [RESTORE_PROGRESS_MEMO]: progress() });
  };
  setHandler(approveRestore, (signal) => { approval ??= signal; });
  setHandler(restorePhase, progress);
  enter('verifying');
  const live = 'live' in input.target;
  if (!live && !RESTORE_DATABASE_NAME.test((input.target as { database?: unknown }).database as string)) {
    throw ApplicationFailure.nonRetryable('the target database name must be 3 to 63 of a-z 0-9 _ starting with a letter', 'InvalidRestoreTarget');
  }
  const event = { backupId: input.backupId, target: live ? 'live' : (input.target as { database: string }).database, requestedBy: input.requestedBy };
  // Runs recorded before holds existed replay without them.
  const hold = patched('restore-holds-its-backup') ? { backupId: input.backupId, holder: workflowInfo().workflowId } : null;
  try {
    if (hold) await quick.holdBackupForRestore({ ...hold, until: new Date(Date.now() + HOLD_MS).toISOString() });
    const verified = await streaming.verifyBackup({ backupId: input.backupId });
    if (!live) {
      enter('restoring');
      const restored = await streaming.restoreBackupInto({ backupId: input.backupId, database: (input.target as { database: string }).database });
      enter('done');
      await quick.recordPlatformEvent({ kind: 'restore.completed', actor: input.requestedBy, payload: { ...event, seconds: verified.seconds + restored.seconds } });
      return { ...event, seconds: verified.seconds + restored.seconds };
    }
    enter('awaiting-approval');
    if (!await condition(() => approval !== null, APPROVAL_WINDOW)) {
      throw ApplicationFailure.nonRetryable(`no approval within ${APPROVAL_WINDOW}: the live database was not touched`, 'RestoreNotApproved');
    }
    enter('safety-backup');
    const safety = await executeChild(backupDatabase, {
      workflowId: `${restoreWorkflowId(input.backupId)}/safety-backup/${workflowInfo().runId}`, args: [{ kind: 'safety' }],
    });
    enter('restoring');
    const staging = stagingDatabaseName(input.backupId);
    const restored = await streaming.restoreBackupInto({ backupId: input.backupId, database: staging, replacesLive: true });
    enter('swapping');
    const swapped = await quick.swapRestoredIntoLive({ restored: staging, backupId: input.backupId });
    enter('done');
    const result = { ...event, approvedBy: approval!.approvedBy, safetyBackupId: safety.backupId, retiredDatabase: swapped.retired, seconds: verified.seconds + restored.seconds };
    await quick.recordPlatformEvent({ kind: 'restore.completed', actor: input.requestedBy, payload: result });
    return result;
  } catch (error) {
    reason = failureReason(error);
    enter('failed');
    await quick.recordPlatformEvent({ kind: 'restore.failed', actor: input.requestedBy, payload: { ...event, reason } });
    throw ApplicationFailure.nonRetryable(`restore of ${input.backupId} failed: ${reason}`, 'RestoreFailed');
  } finally {
    if (hold) await quick.releaseBackupFromRestore(hold);
  }
}

/**
 * The weekly proof: the newest complete backup restored into a scratch database, compared with
 * its manifest table by table, indexes checked with amcheck; the time to verify and restore is
 * the measured RTO. The scratch database is always dropped.
 */
export async function restoreDrill() {
  const newest = await quick.newestCompleteBackup();
  if (!newest) throw ApplicationFailure.nonRetryable('no complete backup to drill', 'NothingToDrill');
  const { backupId } = newest;
  const startedAt = new Date().toISOString();
  const scratch = drillDatabaseName(backupId);
  const record = (passed: boolean, restoreSeconds: number | null, details: Record<string, unknown>) =>
    quick.recordDrillResult({ backupId, workflowId: workflowInfo().workflowId, startedAt, passed, restoreSeconds, details });
  let outcome: { passed: boolean; restoreSeconds: number | null; details: Record<string, unknown> };
  try {
    const verified = await streaming.verifyBackup({ backupId });
    const restored = await streaming.restoreBackupInto({ backupId, database: scratch });
    const check = await streaming.checkRestoredDatabase({ backupId, database: scratch });
    // Drills recorded before the copy was integrity-checked replay without the check.
    const integrity = patched('drill-integrity-checks') ? await streaming.checkRestoredIntegrity({ database: scratch }) : null;
    const restoreSeconds = Math.round((verified.seconds + restored.seconds) * 1000) / 1000;
    outcome = {
      passed: check.differences.length === 0 && check.corruptIndexes.length === 0 && !integrity?.failure,
      restoreSeconds,
      details: {
        tables: verified.tables, differences: check.differences, indexesChecked: check.indexesChecked, corruptIndexes: check.corruptIndexes,
        ...integrity ? { integrity, ...integrity.failure ? { reason: integrity.failure } : {} } : {},
      },
    };
  } catch (error) {
    outcome = { passed: false, restoreSeconds: null, details: { reason: failureReason(error) } };
  } finally {
    await quick.dropRestoredDatabase({ database: scratch });
  }
  await record(outcome.passed, outcome.restoreSeconds, outcome.details);
  if (!outcome.passed) {
    const { reason } = outcome.details;
    throw ApplicationFailure.nonRetryable(`restore drill of ${backupId} failed: ${typeof reason === 'string' ? reason : JSON.stringify(outcome.details).slice(0, 2000)}`, 'DrillFailed');
  }
  return { backupId, restoreSeconds: outcome.restoreSeconds, ...outcome.details };
}
