// `tenant-delete/<tenantId>`: deletes a tenant. In order: snapshot its WhatsApp sessions through its
// bot pod and keep that snapshot outside the tenant's prefix; terminate its running workflows (none
// may write a row afterwards); delete its Schedules; delete its rows and write the tombstone (one
// transaction; the local stack stops the pod of a tenant no longer listed); delete its objects.
// Every step is idempotent, so the workflow may be retried or started again.
import { ActivityFailure, ApplicationFailure, proxyActivities, TimeoutFailure, workflowInfo } from '@temporalio/workflow';
import type { TenantDeleteActivities } from '../activities/tenant-delete/index.ts';
import { botPodTaskQueue, type BotPodActivities } from '../core/temporal/bot-pod.ts';
import { failureReason } from '../core/temporal/failure-reason.ts';
import { NON_RETRYABLE_PLATFORM_ERRORS } from '../core/temporal/retry.ts';
import type { KeptSessionSnapshot, TenantDeleteInput, TenantDeleteResult } from '../core/temporal/tenant-delete.ts';
import { sessionSnapshotKey } from '../core/object-keys.ts';

/** How long the delete waits for the tenant's bot pod to take the snapshot before going on without one. */
const SNAPSHOT_POD_WAIT_SECONDS = 15;

const tenantDelete = proxyActivities<TenantDeleteActivities>({
  startToCloseTimeout: '10 minutes',
  // The loops over objects, Schedules and workflows heartbeat: a dead worker is noticed within a minute.
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE_PLATFORM_ERRORS },
});

const snapshotSessions = async (tenantId: string): Promise<KeptSessionSnapshot> => {
  const pod = proxyActivities<BotPodActivities>({
    taskQueue: botPodTaskQueue(tenantId),
    scheduleToStartTimeout: `${SNAPSHOT_POD_WAIT_SECONDS} seconds`,
    startToCloseTimeout: '10 minutes',
    retry: { maximumAttempts: 1 },
  });
  const takenAt = new Date().toISOString();
  let snapshot;
  try {
    snapshot = await pod.snapshotSessions({ tenantId, objectKey: sessionSnapshotKey(tenantId, takenAt) });
  } catch (error) {
    // No pod polls its queue (never started, or stopped): it holds no session to keep. Any other
    // failure stops the delete before anything is removed.
    if (error instanceof ActivityFailure && error.cause instanceof TimeoutFailure) {
      return { skipped: `no bot pod answered on ${botPodTaskQueue(tenantId)} within ${SNAPSHOT_POD_WAIT_SECONDS} s` };
    }
    throw ApplicationFailure.nonRetryable(`session snapshot failed, nothing deleted: ${failureReason(error)}`, 'SessionSnapshotFailed');
  }
  return tenantDelete.keepTenantSessionSnapshot({ tenantId, snapshot, takenAt });
};

export async function deleteTenant(input: TenantDeleteInput): Promise<TenantDeleteResult> {
  const { tenantId } = input;
  const sessionSnapshot = await snapshotSessions(tenantId);
  const workflowsTerminated = await tenantDelete.terminateTenantWorkflows({ tenantId, except: workflowInfo().workflowId });
  const schedulesDeleted = await tenantDelete.deleteTenantSchedules({ tenantId });
  const rows = await tenantDelete.deleteTenantRows({ ...input, sessionSnapshot, workflowsTerminated, schedulesDeleted });
  const objects = await tenantDelete.deleteTenantObjects({ tenantId });
  return { tenantId, sessionSnapshot, workflowsTerminated, schedulesDeleted, rows: rows.tables, objects };
}
