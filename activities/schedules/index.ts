// The tenant schedules' activities: sync one row to its Temporal Schedule, reconcile all of them,
// and record a firing.
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import type { TenantTransaction, WithTenant } from '../../core/db/with-tenant.ts';
import {
  TENANT_SCHEDULE_PREFIX, type ScheduledRunInput, type ScheduleFiring, type ScheduleReconcileResult, type ScheduleRef, type ScheduleSyncOutcome,
} from '../../core/temporal/schedules.ts';
import { applyTenantSchedule, deleteTenantSchedule, writeTenantSchedule } from './apply-schedule.ts';
import { createEmailEnrollmentActivities } from './email-enrollment.ts';
import { createFollowUpActivities, type FollowUpSettings } from './follow-up.ts';
import type { ScheduleRow } from './schedule-options.ts';

const scheduleRow = z.object({
  tenantId: z.string(), botId: z.string(), scheduleId: z.string(), cron: z.string(), timezone: z.string(), enabled: z.boolean(),
  actionType: z.string(),
});
const ROW_COLUMNS = sql.fragment`tenant_id AS "tenantId", bot_id AS "botId", id AS "scheduleId", cron, timezone, enabled, action->>'type' AS "actionType"`;

const readRow = (tx: TenantTransaction, ref: ScheduleRef) => tx.maybeOne(sql.type(scheduleRow)`
  SELECT ${ROW_COLUMNS} FROM schedules WHERE tenant_id = ${ref.tenantId} AND id = ${ref.scheduleId}`);

/** `schedule/<tenantId>/<scheduleId>` back into its parts; null for an id of another shape. */
const parseTenantScheduleId = (id: string): ScheduleRef | null => {
  const [tenantId, scheduleId, ...rest] = id.slice(TENANT_SCHEDULE_PREFIX.length).split('/');
  return id.startsWith(TENANT_SCHEDULE_PREFIX) && tenantId && scheduleId && rest.length === 0 ? { tenantId, scheduleId } : null;
};

export const createScheduleActivities = (deps: {
  withTenant: WithTenant; maintenancePool: DatabasePool; temporal: Client; taskQueue: string; followUp: FollowUpSettings;
}) => {
  const rowExists = async (ref: ScheduleRef) => deps.maintenancePool.exists(sql.unsafe`
    SELECT 1 FROM schedules WHERE tenant_id = ${ref.tenantId} AND id = ${ref.scheduleId}`);
  return {
    ...createFollowUpActivities(deps),
    ...createEmailEnrollmentActivities(deps),

    async syncScheduleRow(ref: ScheduleRef): Promise<ScheduleSyncOutcome> {
      const row: ScheduleRow | null = await deps.withTenant(ref.tenantId, (tx) => readRow(tx, ref));
      return applyTenantSchedule(deps.temporal, ref, row, deps.taskQueue);
    },

    /** Every row gets its Schedule (a lost one is recreated); every Schedule without a row is deleted. */
    async reconcileScheduleRows(): Promise<ScheduleReconcileResult> {
      const rows = await deps.maintenancePool.any(sql.type(scheduleRow)`SELECT ${ROW_COLUMNS} FROM schedules ORDER BY tenant_id, id`);
      let created = 0;
      let updated = 0;
      const failed: string[] = [];
      for (const row of rows) {
        // One row Temporal refuses must not leave the others unrepaired: it is reported instead.
        try {
          if (await writeTenantSchedule(deps.temporal, row, deps.taskQueue) === 'created') created += 1; else updated += 1;
        } catch (error) {
          failed.push(`${row.tenantId}/${row.scheduleId}: ${error instanceof Error ? error.message : String(error)}`);
        }
        Context.current().heartbeat(row.scheduleId);
      }
      let deleted = 0;
      for await (const summary of deps.temporal.schedule.list()) {
        const ref = parseTenantScheduleId(summary.scheduleId);
        // Re-checked, not looked up in `rows`: a row written since the read above has its Schedule already.
        if (ref === null || await rowExists(ref)) continue;
        if (await deleteTenantSchedule(deps.temporal, ref) === 'deleted') deleted += 1;
      }
      return { rows: rows.length, created, updated, deleted, failed };
    },

    /** A firing: recorded in the tenant's audit log, with its action's type. A firing whose row is gone deletes its Schedule. */
    async recordScheduleFiring(input: ScheduledRunInput): Promise<ScheduleFiring> {
      const workflowId = Context.current().info.workflowExecution?.workflowId ?? null;
      const outcome = await deps.withTenant(input.tenantId, async (tx): Promise<ScheduleFiring & { gone?: true }> => {
        const row = await readRow(tx, input);
        if (row === null) return { fired: false, gone: true };
        // Paused by its sync a moment ago: this firing was already on its way.
        if (!row.enabled) return { fired: false };
        await tx.query(sql.unsafe`
          INSERT INTO audit_logs (tenant_id, actor, action, details)
          VALUES (${input.tenantId}, ${`schedule:${input.scheduleId}`}, 'schedule.fired',
                  ${sql.jsonb({ scheduleId: input.scheduleId, botId: row.botId, action: row.actionType, workflowId })})`);
        return { fired: true, actionType: row.actionType };
      });
      if (outcome.gone) await deleteTenantSchedule(deps.temporal, input);
      return outcome.fired ? { fired: true, actionType: outcome.actionType } : { fired: false };
    },
  };
};

export type ScheduleActivities = ReturnType<typeof createScheduleActivities>;
