// Tenant schedules on the real Temporal dev server, through the API in-process and the platform
// worker as a process: every row is a Temporal Schedule `schedule/<tenantId>/<scheduleId>` that
// follows the row's writes, fires the recorded run, and is repaired by the reconcile when Temporal
// drifts from the table. (The time-skipping test server has no Schedules: see
// data-integrity-schedule.test.ts.)
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleDescription } from '@temporalio/client';
import { pino } from 'pino';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { createApp } from '../api/app.ts';
import { issueToken } from '../api/token-store.ts';
import { loadConfig } from '../core/config.ts';
import { createDatabasePools, createTokenAdminPool, type DatabasePools } from '../core/db/pools.ts';
import { createWithTenant, type WithTenant } from '../core/db/with-tenant.ts';
import { createObjectStoreClient } from '../core/object-store.ts';
import { connectTemporalClient } from '../core/temporal/client.ts';
import { tenantScheduleId, type ScheduleReconcileResult } from '../core/temporal/schedules.ts';
import type * as workflows from '../workflows/index.ts';
import { waitUntil } from './support/operator.ts';
import { processGroup } from './support/processes.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

const config = loadConfig();
const processes = processGroup();
const s3 = createObjectStoreClient(config.s3);
let pools: DatabasePools;
let tokenPool: DatabasePool;
let withTenant: WithTenant;
let tenantA: TenantGraph;
let tenantB: TenantGraph;
let client: Client;
let api: ReturnType<typeof createApp>;
let base: string;
let tokenA: string;
let tokenB: string;

beforeAll(async () => {
  pools = await createDatabasePools(config.database);
  tokenPool = await createTokenAdminPool(config.database);
  withTenant = createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 });
  [tenantA, tenantB] = [await seedTenant(withTenant), await seedTenant(withTenant)];
  client = await connectTemporalClient(config.temporal);
  await processes.start(['worker/main.ts']);
  api = createApp({
    config, pools, tokenPool, withTenant, logger: pino({ level: 'silent' }), s3, temporalHealthy: async () => true, temporal: async () => client,
  });
  const server = await api.start(0, '127.0.0.1');
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  tokenA = (await issueToken(tokenPool, { tenantId: tenantA.tenantId, name: 'test', expiresAt: null, actor: 'test' }))!.token;
  tokenB = (await issueToken(tokenPool, { tenantId: tenantB.tenantId, name: 'test', expiresAt: null, actor: 'test' }))!.token;
}, 60_000);
afterAll(async () => {
  await api.stop();
  await processes.stopAll();
  await client.connection.close();
  s3.destroy();
  await Promise.all([pools.end(), tokenPool.end()]);
});

const call = async (method: string, path: string, token: string, body?: unknown) => {
  const response = await fetch(`${base}/api/v1${path}`, {
    method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() as Record<string, unknown> };
};
const schedulesOf = (tenant: TenantGraph) => `/tenants/${tenant.tenantId}/bots/${tenant.botId}/schedules`;
const createSchedule = async (tenant: TenantGraph, token: string, body: Record<string, unknown>) => {
  const created = await call('POST', schedulesOf(tenant), token, { name: 'Follow-up', action: { type: 'follow_up' }, ...body });
  expect(created.status).toBe(201);
  return created.json.id as string;
};

const handleOf = (tenant: TenantGraph, scheduleId: string) => client.schedule.getHandle(tenantScheduleId(tenant.tenantId, scheduleId));
const describeOrNull = async (tenant: TenantGraph, scheduleId: string): Promise<ScheduleDescription | null> => {
  try {
    return await handleOf(tenant, scheduleId).describe();
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) return null;
    throw error;
  }
};
/** The Schedule once it satisfies `done`: the sync runs after the API answered. */
const scheduleWhen = (tenant: TenantGraph, scheduleId: string, what: string, done: (description: ScheduleDescription) => boolean) =>
  waitUntil(what, async () => {
    const description = await describeOrNull(tenant, scheduleId);
    return description !== null && done(description) ? description : null;
  }, 30_000);
const scheduleGone = (tenant: TenantGraph, scheduleId: string) =>
  waitUntil('the Schedule deleted', async () => await describeOrNull(tenant, scheduleId) === null, 30_000);
/** Next firings as UTC `weekday hh:mm`. */
const nextRuns = (description: ScheduleDescription) =>
  description.info.nextActionTimes.map((time) => `${time.getUTCDay()} ${time.toISOString().slice(11, 16)}`);

const reconcile = () => client.workflow.execute<typeof workflows.reconcileTenantSchedules>('reconcileTenantSchedules', {
  workflowId: `schedules-reconcile-test/${randomUUID()}`, taskQueue: config.temporal.taskQueue, args: [],
}) as Promise<ScheduleReconcileResult>;

describe('tenant schedules as Temporal Schedules', () => {
  it('a schedule created through the API is a Schedule with its cron, time zone and policies; updating it changes the next run', async () => {
    // Mondays 09:00 in São Paulo (UTC-3, no daylight saving since 2019): 12:00 UTC.
    const scheduleId = await createSchedule(tenantA, tokenA, { cron: '0 9 * * 1', timezone: 'America/Sao_Paulo' });
    const created = await scheduleWhen(tenantA, scheduleId, 'the Schedule created', () => true);
    expect(created.spec.timezone).toBe('America/Sao_Paulo');
    expect(created.policies).toMatchObject({ overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: 600_000 });
    expect(created.state.paused).toBe(false);
    expect(created.action).toMatchObject({ workflowType: 'scheduledTenantRun', taskQueue: config.temporal.taskQueue });
    expect(new Set(nextRuns(created))).toEqual(new Set(['1 12:00']));

    // Daily 18:30 in São Paulo: 21:30 UTC, every day.
    const patched = await call('PATCH', `${schedulesOf(tenantA)}/${scheduleId}`, tokenA, { cron: '30 18 * * *' });
    expect([patched.status, patched.json.cron, patched.json.timezone]).toEqual([200, '30 18 * * *', 'America/Sao_Paulo']);
    const updated = await scheduleWhen(tenantA, scheduleId, 'the next run at 21:30 UTC', (description) => nextRuns(description).every((run) => run.endsWith(' 21:30')));
    expect(new Set(nextRuns(updated).map((run) => run.slice(0, 1))).size).toBeGreaterThan(1);

    // Disabled: paused, not deleted; enabled again: running.
    expect((await call('PATCH', `${schedulesOf(tenantA)}/${scheduleId}`, tokenA, { enabled: false })).status).toBe(200);
    await scheduleWhen(tenantA, scheduleId, 'the Schedule paused', (description) => description.state.paused);
    expect((await call('PATCH', `${schedulesOf(tenantA)}/${scheduleId}`, tokenA, { enabled: true })).status).toBe(200);
    await scheduleWhen(tenantA, scheduleId, 'the Schedule running', (description) => !description.state.paused);

    const audited = await withTenant(tenantA.tenantId, (tx) => tx.anyFirst(sql.type(z.object({ action: z.string() }))`
      SELECT action FROM audit_logs WHERE details->>'scheduleId' = ${scheduleId} ORDER BY created_at`));
    expect(audited).toEqual(['schedule.created', 'schedule.updated', 'schedule.updated', 'schedule.updated']);
  }, 90_000);

  it('refuses a bad update with a problem document and changes nothing', async () => {
    const scheduleId = await createSchedule(tenantA, tokenA, { cron: '0 8 * * *' });
    await scheduleWhen(tenantA, scheduleId, 'the Schedule created', () => true);
    const path = `${schedulesOf(tenantA)}/${scheduleId}`;
    for (const body of [{ cron: '61 * * * *' }, { timezone: 'Mars/Olympus' }, { action: { type: 'nope' } }, {}, { cron: '0 9 * * 1', extra: 1 }]) {
      const refused = await call('PATCH', path, tokenA, body);
      expect([refused.status, refused.json.status]).toEqual([400, 400]);
    }
    const listed = await call('GET', schedulesOf(tenantA), tokenA);
    expect((listed.json.items as { id: string; cron: string }[]).find((item) => item.id === scheduleId)?.cron).toBe('0 8 * * *');
    expect(nextRuns((await handleOf(tenantA, scheduleId).describe())).every((run) => run.endsWith(' 08:00'))).toBe(true);
  }, 60_000);

  it('fires the recorded run, and deleting the row deletes the Schedule', async () => {
    const scheduleId = await createSchedule(tenantA, tokenA, { cron: '0 7 * * *' });
    await scheduleWhen(tenantA, scheduleId, 'the Schedule created', () => true);
    await handleOf(tenantA, scheduleId).trigger();
    const fired = await waitUntil('the firing recorded', () => withTenant(tenantA.tenantId, (tx) => tx.maybeOne(sql.type(z.object({
      actor: z.string(), details: z.record(z.string(), z.unknown()),
    }))`SELECT actor, details FROM audit_logs WHERE action = 'schedule.fired' AND details->>'scheduleId' = ${scheduleId}`)), 30_000);
    expect(fired).toMatchObject({
      actor: `schedule:${scheduleId}`,
      details: { botId: tenantA.botId, action: 'follow_up', workflowId: expect.stringMatching(new RegExp(`^schedule-run/${tenantA.tenantId}/${scheduleId}-`)) },
    });

    const deleted = await call('DELETE', `${schedulesOf(tenantA)}/${scheduleId}`, tokenA);
    expect([deleted.status, deleted.json]).toEqual([200, { scheduleId, deleted: true }]);
    await scheduleGone(tenantA, scheduleId);
  }, 60_000);

  it('answers 404 for another tenant\'s schedule id, and leaves that Schedule alone', async () => {
    const scheduleId = await createSchedule(tenantA, tokenA, { cron: '15 10 * * *' });
    await scheduleWhen(tenantA, scheduleId, 'the Schedule created', () => true);
    const foreign = `${schedulesOf(tenantB)}/${scheduleId}`;
    expect((await call('PATCH', foreign, tokenB, { cron: '0 0 * * *' })).status).toBe(404);
    expect((await call('DELETE', foreign, tokenB)).status).toBe(404);
    // Tenant A's path with tenant B's token is refused before any lookup.
    expect([403, 404]).toContain((await call('PATCH', `${schedulesOf(tenantA)}/${scheduleId}`, tokenB, { cron: '0 0 * * *' })).status);
    const description = await handleOf(tenantA, scheduleId).describe();
    expect(nextRuns(description).every((run) => run.endsWith(' 10:15'))).toBe(true);
  }, 60_000);

  it('the reconcile recreates a Schedule deleted behind the table\'s back, restores a changed one, and deletes one without a row', async () => {
    const lostId = await createSchedule(tenantA, tokenA, { cron: '45 6 * * *' });
    const changedId = await createSchedule(tenantA, tokenA, { cron: '0 6 * * *', enabled: false });
    await scheduleWhen(tenantA, lostId, 'the Schedule created', () => true);
    await scheduleWhen(tenantA, changedId, 'the Schedule created', (description) => description.state.paused);
    await handleOf(tenantA, lostId).delete();
    await handleOf(tenantA, changedId).update((previous) => ({ ...previous, spec: { cronExpressions: ['0 0 1 1 *'] }, state: { paused: false } }));
    const orphanId = randomUUID();
    await client.schedule.create({
      scheduleId: tenantScheduleId(tenantA.tenantId, orphanId), spec: { cronExpressions: ['0 5 * * *'] },
      action: { type: 'startWorkflow', workflowType: 'scheduledTenantRun', taskQueue: config.temporal.taskQueue, args: [] },
      state: { paused: true },
    });

    const result = await reconcile();
    expect(result.created).toBeGreaterThanOrEqual(1);
    expect(result.deleted).toBeGreaterThanOrEqual(1);
    const restored = await handleOf(tenantA, lostId).describe();
    expect(nextRuns(restored).every((run) => run.endsWith(' 06:45'))).toBe(true);
    const repaired = await handleOf(tenantA, changedId).describe();
    expect(repaired.info.nextActionTimes.length).toBeGreaterThan(0);
    expect([repaired.state.paused, nextRuns(repaired).every((run) => run.endsWith(' 06:00'))]).toEqual([true, true]);
    expect(await describeOrNull(tenantA, orphanId)).toBeNull();
  }, 90_000);

  it('a deleted bot takes its Schedules with it', async () => {
    const bot = await call('POST', `/tenants/${tenantB.tenantId}/bots`, tokenB, { name: 'Short-lived' });
    const tenant = { ...tenantB, botId: bot.json.id as string };
    const scheduleId = await createSchedule(tenant, tokenB, { cron: '0 12 * * *' });
    await scheduleWhen(tenant, scheduleId, 'the Schedule created', () => true);
    const deleted = await call('DELETE', `/tenants/${tenant.tenantId}/bots/${tenant.botId}`, tokenB);
    expect([deleted.status, deleted.json]).toEqual([200, expect.objectContaining({ deleted: expect.objectContaining({ schedules: 1 }) })]);
    await scheduleGone(tenant, scheduleId);
  }, 60_000);
});
