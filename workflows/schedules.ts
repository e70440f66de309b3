// Tenant schedules: the sync that follows every write of a row, the daily reconcile, and what a
// firing runs.
import { defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';
import type { ScheduleActivities } from '../activities/schedules/index.ts';
import { NON_RETRYABLE_PLATFORM_ERRORS } from '../core/temporal/retry.ts';
import {
  SCHEDULE_CHANGED_SIGNAL, type ScheduledRunInput, type ScheduledRunResult, type ScheduleReconcileResult, type ScheduleRef, type ScheduleSyncOutcome,
} from '../core/temporal/schedules.ts';

const schedules = proxyActivities<ScheduleActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', nonRetryableErrorTypes: [...NON_RETRYABLE_PLATFORM_ERRORS] },
});
const reconcile = proxyActivities<ScheduleActivities>({
  startToCloseTimeout: '1 hour', heartbeatTimeout: '1 minute',
  retry: { initialInterval: '10 seconds', maximumAttempts: 5, nonRetryableErrorTypes: [...NON_RETRYABLE_PLATFORM_ERRORS] },
});

export const scheduleChangedSignal = defineSignal(SCHEDULE_CHANGED_SIGNAL);

/**
 * `schedule-sync/<tenantId>/<scheduleId>`, signalled with start on every write of the row: syncs
 * until no write came in during the last sync, so the Schedule ends as the row's last write says.
 */
export async function syncTenantSchedule(ref: ScheduleRef): Promise<ScheduleSyncOutcome> {
  let pending = true;
  setHandler(scheduleChangedSignal, () => { pending = true; });
  let outcome: ScheduleSyncOutcome = 'absent';
  // A signal that comes while the workflow completes makes the server refuse the completion and
  // replay with the signal: the loop then runs once more.
  while (pending) {
    pending = false;
    outcome = await schedules.syncScheduleRow(ref);
  }
  return outcome;
}

/** Daily, Schedule `schedules-reconcile-daily`: repairs drift between the table and Temporal. */
export async function reconcileTenantSchedules(): Promise<ScheduleReconcileResult> {
  return reconcile.reconcileScheduleRows();
}

/** What a tenant Schedule starts at each firing: records it (the typed actions come later). */
export async function scheduledTenantRun(input: ScheduledRunInput): Promise<ScheduledRunResult> {
  return schedules.recordScheduleFiring(input);
}
