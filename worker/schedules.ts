// Every Schedule of the platform, declared in one list. The worker creates each at start, or brings
// it in line with the configuration when it exists (so a changed time takes effect on restart). A
// run still going when the next is due is skipped, never doubled.
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import type { Config } from '../core/config.ts';
import { BACKUP_SCHEDULE_ID, DRILL_SCHEDULE_ID } from '../core/temporal/backups.ts';
import { INTEGRITY_HOURLY_SCHEDULE_ID } from '../core/temporal/data-integrity.ts';
import { RETENTION_DAILY_SCHEDULE_ID } from '../core/temporal/data-retention.ts';
import { SCHEDULES_RECONCILE_SCHEDULE_ID } from '../core/temporal/schedules.ts';
import type * as workflows from '../workflows/index.ts';

type Workflows = typeof workflows;

/** A Schedule's action, typed by the worker's own workflows: a renamed workflow or a wrong argument fails `tsc`. */
export const startWorkflowAction = <Name extends keyof Workflows>(
  workflowType: Name, taskQueue: string, args: Parameters<Workflows[Name]>,
): ScheduleOptions['action'] => ({ type: 'startWorkflow', workflowType, taskQueue, args });

const hourMinute = (time: string) => ({ hour: Number(time.slice(0, 2)), minute: Number(time.slice(3, 5)) });

/**
 * Every Schedule: `backup-nightly`, `restore-drill-weekly`, `integrity-hourly`, `retention-daily`,
 * `schedules-reconcile-daily`. Add a new one here. (The tenants' own Schedules follow their rows:
 * see activities/schedules/.)
 */
export const platformSchedules = (config: Config): ScheduleOptions[] => [
  ...config.backup.schedulesEnabled ? backupSchedules(config) : [],
  ...config.integrity.scheduleEnabled ? [integritySchedule(config)] : [],
  ...config.retention.scheduleEnabled ? [retentionSchedule(config)] : [],
  ...config.schedules.reconcileEnabled ? [schedulesReconcileSchedule(config)] : [],
];

const retentionSchedule = (config: Config): ScheduleOptions => ({
  scheduleId: RETENTION_DAILY_SCHEDULE_ID,
  spec: { calendars: [{ ...hourMinute(config.retention.time), comment: 'daily data retention' }] },
  action: startWorkflowAction('dailyRetention', config.temporal.taskQueue, []),
  policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
});

const schedulesReconcileSchedule = (config: Config): ScheduleOptions => ({
  scheduleId: SCHEDULES_RECONCILE_SCHEDULE_ID,
  spec: { intervals: [{ every: '1 day' }] },
  action: startWorkflowAction('reconcileTenantSchedules', config.temporal.taskQueue, []),
  policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
});

const integritySchedule = (config: Config): ScheduleOptions => ({
  scheduleId: INTEGRITY_HOURLY_SCHEDULE_ID,
  spec: { intervals: [{ every: '1 hour' }] },
  action: startWorkflowAction('scheduledIntegrityRun', config.temporal.taskQueue, [{ scope: 'platform', approvalTimeoutMs: config.integrity.approvalTimeoutMs }]),
  policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '10 minutes' },
});

const backupSchedules = (config: Config): ScheduleOptions[] => [
  {
    scheduleId: BACKUP_SCHEDULE_ID,
    spec: { calendars: [{ ...hourMinute(config.backup.time), comment: 'nightly backup' }], timezone: config.backup.timeZone },
    action: startWorkflowAction('backupDatabase', config.temporal.taskQueue, [{ kind: 'nightly' }]),
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
  },
  {
    scheduleId: DRILL_SCHEDULE_ID,
    spec: {
      calendars: [{ ...hourMinute(config.backup.drillTime), dayOfWeek: config.backup.drillWeekday, comment: 'weekly restore drill' }],
      timezone: config.backup.timeZone,
    },
    action: startWorkflowAction('restoreDrill', config.temporal.taskQueue, []),
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
  },
];

/** Creates or updates the enabled Schedules; returns their ids. */
export const ensureSchedules = async (client: Client, config: Config): Promise<string[]> => {
  const schedules = platformSchedules(config);
  for (const options of schedules) {
    try {
      await client.schedule.create(options);
    } catch (error) {
      if (!(error instanceof ScheduleAlreadyRunning)) throw error;
      await client.schedule.getHandle(options.scheduleId).update((previous) => ({
        ...previous, spec: options.spec, action: options.action as typeof previous.action, policies: { ...previous.policies, ...options.policies },
      }));
    }
  }
  return schedules.map((options) => options.scheduleId);
};
