// Contract of tenant schedules: every row of `schedules` is a Temporal Schedule, kept in line with its
// row by a sync workflow per row (started on every write) and a daily reconcile over all rows.

/** The Temporal Schedule of one row. */
export const tenantScheduleId = (tenantId: string, scheduleId: string) => `schedule/${tenantId}/${scheduleId}`;

/** Every tenant Schedule's id starts with this: the reconcile lists them by it. */
export const TENANT_SCHEDULE_PREFIX = 'schedule/';

/** One sync per row at a time: a write during a sync signals it to sync again. */
export const scheduleSyncWorkflowId = (tenantId: string, scheduleId: string) => `schedule-sync/${tenantId}/${scheduleId}`;

/** What a firing starts: Temporal appends the firing time to it. */
export const scheduledRunWorkflowId = (tenantId: string, scheduleId: string) => `schedule-run/${tenantId}/${scheduleId}`;

export const SCHEDULES_RECONCILE_SCHEDULE_ID = 'schedules-reconcile-daily';

/** A firing that comes late (the server was down) still runs within this window, then is dropped. */
export const SCHEDULE_CATCHUP_WINDOW = '10 minutes';

/** Sent to `schedule-sync/<tenantId>/<scheduleId>` by every write of the row. */
export const SCHEDULE_CHANGED_SIGNAL = 'changed';

export type ScheduleRef = { readonly tenantId: string; readonly scheduleId: string };

export type ScheduledRunInput = ScheduleRef & { readonly botId: string };

/** What a sync did to the Temporal Schedule. */
export type ScheduleSyncOutcome = 'created' | 'updated' | 'deleted' | 'absent';

export type ScheduleReconcileResult = {
  readonly rows: number;
  readonly created: number;
  readonly updated: number;
  /** Schedules without a row (deleted row, deleted bot or tenant). */
  readonly deleted: number;
  /** Rows whose Schedule could not be written, as `<tenantId>/<scheduleId>: <reason>`. */
  readonly failed: readonly string[];
};

export type ScheduledRunResult = { readonly fired: boolean };
