// Brings one Temporal Schedule in line with its row: created or updated from the row, deleted when
// the row is gone. Idempotent, so a sync, a retry and the reconcile may all run it.
import { ScheduleAlreadyRunning, ScheduleNotFoundError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { tenantScheduleId, type ScheduleRef, type ScheduleSyncOutcome } from '../../core/temporal/schedules.ts';
import { tenantScheduleOptions, type ScheduleRow } from './schedule-options.ts';

/** The client reports a spec the server refuses as a TypeError: no retry makes it valid. */
const refusedSpec = (row: ScheduleRow, error: unknown) => error instanceof TypeError
  ? ApplicationFailure.nonRetryable(`Temporal refused schedule ${row.scheduleId} (cron "${row.cron}", ${row.timezone}): ${error.message}`, 'InvalidScheduleSpec')
  : error;

export const writeTenantSchedule = async (client: Client, row: ScheduleRow, taskQueue: string): Promise<'created' | 'updated'> => {
  const { scheduleId, ...update } = tenantScheduleOptions(row, taskQueue);
  try {
    try {
      await client.schedule.create({ scheduleId, ...update });
      return 'created';
    } catch (error) {
      if (!(error instanceof ScheduleAlreadyRunning)) throw error;
      await client.schedule.getHandle(scheduleId).update(() => update);
      return 'updated';
    }
  } catch (error) {
    throw refusedSpec(row, error);
  }
};

export const deleteTenantSchedule = async (client: Client, ref: ScheduleRef): Promise<'deleted' | 'absent'> => {
  try {
    await client.schedule.getHandle(tenantScheduleId(ref.tenantId, ref.scheduleId)).delete();
    return 'deleted';
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) return 'absent';
    throw error;
  }
};

export const applyTenantSchedule = async (client: Client, ref: ScheduleRef, row: ScheduleRow | null, taskQueue: string): Promise<ScheduleSyncOutcome> =>
  row === null ? deleteTenantSchedule(client, ref) : writeTenantSchedule(client, row, taskQueue);
