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

export type ScheduledRunInput = ScheduleRef & {
  readonly botId: string;
  /** Set on a continued run of a WhatsApp follow-up: the firing has resolved its segment already. */
  readonly followUp?: FollowUpPlan;
  /** Follow-ups the firing's earlier runs sent. */
  readonly sentBefore?: number;
};

/** A firing's WhatsApp follow-up, once its segment is resolved into rows of `schedule_follow_ups`. */
export type FollowUpPlan = {
  /** The template; `{name}` is filled in per lead. */
  readonly message: string;
  /** Between two sends through the bot's number: 60 s over the rate per minute. */
  readonly intervalMs: number;
  /** A send the bot pod has not completed in this long (it is down, or its bot is not connected) fails the firing. */
  readonly sendTimeoutSeconds: number;
  readonly matched: number;
  /** More leads matched than one firing reaches (SEGMENT_MAX_LEADS). */
  readonly truncated: boolean;
};

/** What a firing recorded at its start: nothing (row gone or disabled), or the action to run. */
export type ScheduleFiring = { readonly fired: false } | { readonly fired: true; readonly actionType: string };

/** The follow-up's plan, or why it sends nothing at all (the bot is paused or archived, the row is gone). */
export type FollowUpResolution = { readonly plan: FollowUpPlan } | { readonly plan: null; readonly skippedReason: string };

/** One lead to send to, its text already filled in. */
export type FollowUpLead = { readonly leadId: string; readonly waId: string; readonly toJid: string; readonly text: string };

/** The firing's rows by status, at its end. */
export type FollowUpCounts = {
  readonly matched: number;
  readonly sent: number;
  readonly skipped: number;
  readonly failed: number;
  /** Left when the firing failed (bot pod down): the next firing matches them again, under its own id. */
  readonly pending: number;
  readonly truncated: boolean;
};

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

/** What an `email_enrollment` firing did: the enrolments it wrote (on every run of the firing), the workflows this run started. */
export type EmailEnrollmentCounts = {
  readonly enrolled: number;
  readonly started: number;
  readonly truncated: boolean;
  /** Why nothing was enrolled: the schedule, its bot or its sequence is gone, paused or inactive. */
  readonly skippedReason: string | null;
};

export type ScheduledRunResult = {
  readonly fired: boolean;
  readonly followUp?: FollowUpCounts & { /** Sent by this execution (its continued runs included); less than `sent` when it re-ran a firing. */ readonly sentNow: number };
  readonly emailEnrollment?: EmailEnrollmentCounts;
};

/** Follow-ups one activity reads at a time; each is then sent and recorded on its own. */
export const FOLLOW_UP_BATCH_SIZE = 25;
