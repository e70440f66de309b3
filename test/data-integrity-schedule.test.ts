// The Schedule `integrity-hourly`. Temporal's time-skipping test server (temporal-test-server
// 1.40.0) has no Schedules: CreateSchedule and ListSchedules answer gRPC UNIMPLEMENTED (asserted
// below, so a server that gains them makes this file say so). Hence two halves:
// - on the real dev server, the Schedule the worker creates: hourly, overlap SKIP, its action the
//   platform run; two hourly firings (backfilled): the first runs `integrity/platform`, the second
//   meets that run still going and is skipped by the Schedule itself;
// - on the time-skipping server, what the Schedule starts each hour, `scheduledIntegrityRun`, over
//   simulated hours: an hour that meets a running platform run records `skipped` and starts
//   nothing, the next hour runs.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { sql } from 'slonik';
import { z } from 'zod';
import { INTEGRITY_CHECKS } from '../activities/data-integrity/checks/index.ts';
import { createDataIntegrityActivities } from '../activities/data-integrity/index.ts';
import type { IntegrityCheck } from '../core/data-integrity/check.ts';
import { loadConfig, type Config } from '../core/config.ts';
import { connectTemporalClient, connectTemporalWorker } from '../core/temporal/client.ts';
import { INTEGRITY_HOURLY_SCHEDULE_ID, integrityWorkflowId } from '../core/temporal/data-integrity.ts';
import type { dataIntegrityRun, scheduledIntegrityRun } from '../workflows/data-integrity.ts';
import { ensureSchedules } from '../worker/schedules.ts';
import { terminateRunningWorkflows } from '../stack/workflows.ts';
import { createIntegrityDatabase, type IntegrityDatabase } from './support/integrity-database.ts';

const base = loadConfig();
/** Fixed: a firing's workflow id is `integrity-hourly-workflow-<time>`, and one an interrupted run left going would block it. */
const TASK_QUEUE = 'integrity-schedule-test';
const HOUR_MS = 3_600_000;
const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));
let db: IntegrityDatabase;

/** A check that holds every run until the test opens it, so a run is surely going when the next hour comes. */
let gateOpened: Promise<void> = Promise.resolve();
const closeGate = () => {
  let open!: () => void;
  gateOpened = new Promise<void>((resolve) => (open = resolve));
  return open;
};
const gate: IntegrityCheck = {
  name: 'test-gate', severity: 'info', description: 'waits for the test', platformOnly: false,
  find: async () => { await gateOpened; return []; },
};
const activities = () => createDataIntegrityActivities({ maintenancePool: db.pools.maintenance, checks: [...INTEGRITY_CHECKS, gate] });
const runsRecorded = () => db.pools.maintenance.oneFirst(sql.type(z.object({ count: z.number() }))`
  SELECT count(*)::int AS count FROM integrity_runs WHERE scope = 'platform'`);

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  db = await createIntegrityDatabase(base);
}, 60_000);
afterAll(async () => {
  await db?.drop();
});

describe('the Schedule integrity-hourly on the dev server', () => {
  const config: Config = {
    ...base,
    temporal: { ...base.temporal, taskQueue: TASK_QUEUE },
    backup: { ...base.backup, schedulesEnabled: false },
    integrity: { ...base.integrity, scheduleEnabled: true },
  };
  let client: Client;
  let worker: Worker;
  let running: Promise<void>;
  let closeWorkerConnection: () => Promise<void>;

  beforeAll(async () => {
    client = await connectTemporalClient(config.temporal);
    const workerConnection = await connectTemporalWorker(config.temporal);
    closeWorkerConnection = () => workerConnection.connection.close();
    worker = await Worker.create({ ...workerConnection, taskQueue: TASK_QUEUE, workflowsPath, activities: activities() });
    running = worker.run();
    await terminateRunningWorkflows(config.temporal, TASK_QUEUE, 'a new test process starts');
  }, 120_000);
  afterAll(async () => {
    await client?.schedule.getHandle(INTEGRITY_HOURLY_SCHEDULE_ID).delete().catch((error: unknown) => {
      if (!(error instanceof ScheduleNotFoundError)) throw error;
    });
    worker?.shutdown();
    await running;
    await closeWorkerConnection?.();
    await client?.connection.close();
  });

  it('is created hourly with overlap SKIP, starts the platform run, and skips the next firing while that run is going', async () => {
    expect(await ensureSchedules(client, config)).toEqual([INTEGRITY_HOURLY_SCHEDULE_ID]);
    const schedule = client.schedule.getHandle(INTEGRITY_HOURLY_SCHEDULE_ID);
    const described = await schedule.describe();
    expect(described.spec.intervals).toEqual([{ every: HOUR_MS, offset: undefined }]);
    expect(described.policies).toMatchObject({ overlap: 'SKIP', catchupWindow: 600_000 });
    expect(described.action).toMatchObject({
      type: 'startWorkflow', workflowType: 'scheduledIntegrityRun', taskQueue: TASK_QUEUE,
      args: [{ scope: 'platform', approvalTimeoutMs: config.integrity.approvalTimeoutMs }],
    });
    const [next, after] = described.info.nextActionTimes;
    expect(after!.getTime() - next!.getTime()).toBe(HOUR_MS);

    const open = closeGate();
    try {
      const before = await runsRecorded();
      // The last two hourly firings, replayed now under the Schedule's own overlap policy (a manual
      // trigger is ALLOW_ALL unless told otherwise): the first starts the platform run, the second
      // meets it still going (the gate holds it) and is skipped by the Schedule itself.
      const now = Date.now();
      await schedule.backfill({ start: new Date(now - 2 * HOUR_MS), end: new Date(now) });
      const { info } = await waitFor(async () => {
        const now = await schedule.describe();
        return now.info.recentActions.length > 0 && now.info.numActionsSkippedOverlap > 0 ? now : undefined;
      });
      expect(info.numActionsSkippedOverlap).toBe(1);
      expect(info.recentActions).toHaveLength(1);
      const first = info.recentActions[0]!;
      await waitFor(async () => ((await client.workflow.getHandle(integrityWorkflowId('platform')).describe().catch(() => undefined))?.status.name === 'RUNNING' || undefined));
      open();
      const result = await client.workflow.getHandle<typeof scheduledIntegrityRun>(first.action.workflow.workflowId).result();
      expect(result).toMatchObject({ findings: 0, fixes: [] });
      expect(await runsRecorded()).toBe(before + 1);
    } finally {
      open();
    }
  }, 90_000);
});

describe('the hourly platform run on the time-skipping test server', () => {
  let testEnv: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;

  beforeAll(async () => {
    testEnv = await TestWorkflowEnvironment.createTimeSkipping({
      server: { executable: { type: 'existing-path', path: join(base.stack.toolsDir, 'bin', 'temporal-test-server') } },
    });
    worker = await Worker.create({ connection: testEnv.nativeConnection, taskQueue: TASK_QUEUE, workflowsPath, activities: activities() });
    running = worker.run();
  }, 120_000);
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await testEnv?.teardown();
  });

  it('has no Schedules: CreateSchedule and ListSchedules are unimplemented there', async () => {
    const unimplemented = { cause: expect.objectContaining({ code: 12 }) };
    await expect(testEnv.client.schedule.create({
      scheduleId: INTEGRITY_HOURLY_SCHEDULE_ID, spec: { intervals: [{ every: '1 hour' }] },
      action: { type: 'startWorkflow', workflowType: 'scheduledIntegrityRun', taskQueue: TASK_QUEUE, args: [] },
    })).rejects.toMatchObject(unimplemented);
    await expect((async () => { for await (const listed of testEnv.client.schedule.list()) return listed; })()).rejects.toMatchObject(unimplemented);
  });

  it('runs each hour, skips the hour that meets a running platform run, and runs again the next hour', async () => {
    const input = { scope: 'platform', approvalTimeoutMs: base.integrity.approvalTimeoutMs };
    const hourly = (hour: number) => testEnv.client.workflow.execute<typeof scheduledIntegrityRun>('scheduledIntegrityRun', {
      taskQueue: TASK_QUEUE, workflowId: `integrity-hourly-test-${hour}-${randomUUID()}`, args: [input],
    });
    const ran = { runId: expect.any(String), findings: 0, fixes: [], approvalsWorkflowId: null };
    const before = await runsRecorded();
    const startedAt = await testEnv.currentTimeMs();
    expect(await hourly(0)).toEqual(ran);
    // A run started from the API is still going when hour 1 comes (a run is bounded by its
    // activities' timeouts, well under an hour: the one an hour meets was started shortly before).
    // The test server skips no time while an activity runs, so the run starts at the hour itself.
    await testEnv.sleep('1 hour');
    const open = closeGate();
    try {
      const fromApi = await testEnv.client.workflow.start<typeof dataIntegrityRun>('dataIntegrityRun', {
        taskQueue: TASK_QUEUE, workflowId: integrityWorkflowId('platform'), args: [input],
      });
      expect(await hourly(1)).toEqual({ skipped: 'integrity/platform is already running' });
      open();
      expect(await fromApi.result()).toEqual(ran);
    } finally {
      open();
    }
    await testEnv.sleep('1 hour');
    expect(await hourly(2)).toEqual(ran);
    expect((await testEnv.currentTimeMs()) - startedAt).toBeGreaterThanOrEqual(2 * HOUR_MS);
    // Hours 0 and 2 and the API's run recorded a run each; the skipped hour recorded nothing.
    expect(await runsRecorded()).toBe(before + 3);
  }, 120_000);
});

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
