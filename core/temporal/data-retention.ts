// The retention workflows' contract: ids, the Schedule, and what their activities return.
import type { RetentionCounts, RetentionCutoff } from '../data-retention/expired-rows.ts';

export const RETENTION_DAILY_SCHEDULE_ID = 'retention-daily';

/** One run per tenant at a time. */
export const retentionWorkflowId = (tenantId: string) => `retention/${tenantId}`;

/** A run continues as new past this many history events (a batch adds about 6), far below Temporal's limit of 51,200. */
export const RETENTION_HISTORY_EVENTS = 10_000;

export type TenantRetentionInput = {
  readonly tenantId: string;
  /** A continued run's start: the cutoff fixed by the first run, and what the runs before it deleted. */
  readonly carried?: RetentionPreview;
  /** Continue as new past this many events instead of RETENTION_HISTORY_EVENTS (tests lower it). */
  readonly historyEventsLimit?: number;
};
export type RetentionBatchInput = { readonly tenantId: string; readonly cutoff: string };
export type RetentionPreview = RetentionCutoff & RetentionCounts;
export type { RetentionCounts, RetentionCutoff };
