// The Temporal Schedule a row of `schedules` asks for: its cron in its time zone, paused while the
// row is disabled, a firing skipped while the previous one still runs.
import { ScheduleOverlapPolicy, type ScheduleUpdateOptions } from '@temporalio/client';
import { tenantSearchAttributes } from '../../core/temporal/search-attributes.ts';
import { SCHEDULE_CATCHUP_WINDOW, scheduledRunWorkflowId, tenantScheduleId, type ScheduledRunInput } from '../../core/temporal/schedules.ts';

export type ScheduleRow = {
  readonly tenantId: string;
  readonly botId: string;
  readonly scheduleId: string;
  readonly cron: string;
  readonly timezone: string;
  readonly enabled: boolean;
};

/** Named here, not imported: activities never import workflows (see workflows/schedules.ts). */
const SCHEDULED_RUN_WORKFLOW = 'scheduledTenantRun';

/** Its id, and the rest: what a create sets and an update overwrites alike. */
export const tenantScheduleOptions = (row: ScheduleRow, taskQueue: string): { scheduleId: string } & ScheduleUpdateOptions => {
  const input: ScheduledRunInput = { tenantId: row.tenantId, botId: row.botId, scheduleId: row.scheduleId };
  const searchAttributes = tenantSearchAttributes({ tenantId: row.tenantId, botId: row.botId });
  return {
    scheduleId: tenantScheduleId(row.tenantId, row.scheduleId),
    spec: { cronExpressions: [row.cron], timezone: row.timezone },
    action: {
      type: 'startWorkflow', workflowType: SCHEDULED_RUN_WORKFLOW, taskQueue, args: [input],
      workflowId: scheduledRunWorkflowId(row.tenantId, row.scheduleId), typedSearchAttributes: searchAttributes,
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: SCHEDULE_CATCHUP_WINDOW },
    state: { paused: !row.enabled, note: row.enabled ? 'enabled' : 'disabled in the schedules table' },
    typedSearchAttributes: searchAttributes,
  };
};
