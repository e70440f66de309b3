// After a write of a schedule row commits, its sync workflow brings the Temporal Schedule in line.
// Signal-with-start: a write during a running sync makes it sync once more, never twice at once.
import { SCHEDULE_CHANGED_SIGNAL, scheduleSyncWorkflowId, type ScheduleRef } from '../core/temporal/schedules.ts';
import { tenantSearchAttributes } from '../core/temporal/search-attributes.ts';
import type * as workflows from '../workflows/index.ts';
import type { ApiDeps } from './deps.ts';

/**
 * Requested after the commit, so the sync reads the row as written. Temporal unreachable here loses
 * nothing: the row stands, and the daily reconcile creates, updates or deletes the Schedule it names.
 */
export const requestScheduleSync = async (deps: ApiDeps, ref: ScheduleRef): Promise<void> => {
  try {
    await (await deps.temporal()).workflow.signalWithStart<typeof workflows.syncTenantSchedule, []>('syncTenantSchedule', {
      workflowId: scheduleSyncWorkflowId(ref.tenantId, ref.scheduleId),
      taskQueue: deps.config.temporal.taskQueue,
      args: [ref],
      signal: SCHEDULE_CHANGED_SIGNAL,
      signalArgs: [],
      typedSearchAttributes: tenantSearchAttributes({ tenantId: ref.tenantId }),
    });
  } catch (error) {
    deps.logger.warn({ err: error, ...ref }, 'schedule sync not started: the daily reconcile will apply the row');
  }
};
