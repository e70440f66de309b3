// Data retention on real Postgres, Temporal and S3: a tenant whose messages are spread over 200 days
// (every fourth with a media object in the bucket) loses exactly those older than its
// retentionDays (90) with their objects, and its one stale lead, in batches of 7 through the
// workflow `retention/<tenantId>`; the dry run (activity and API) reports the same numbers, objects
// included, and deletes nothing; another tenant, with the same history, is untouched; another
// tenant's id answers 404; the Schedule `retention-daily` is daily with overlap SKIP.
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { pino } from 'pino';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { createDataRetentionActivities } from '../activities/data-retention/index.ts';
import { deleteObjectKeys } from '../core/delete-objects.ts';
import { createApp } from '../api/app.ts';
import { issueToken } from '../api/token-store.ts';
import { loadConfig, type Config } from '../core/config.ts';
import { createDatabasePools, createTokenAdminPool, type DatabasePools } from '../core/db/pools.ts';
import { createWithTenant, type WithTenant } from '../core/db/with-tenant.ts';
import { messageMediaKey, tenantPrefix } from '../core/object-keys.ts';
import { createObjectStoreClient } from '../core/object-store.ts';
import { connectTemporalClient, connectTemporalWorker } from '../core/temporal/client.ts';
import { RETENTION_DAILY_SCHEDULE_ID, retentionWorkflowId } from '../core/temporal/data-retention.ts';
import type { dailyRetention, tenantRetention } from '../workflows/data-retention.ts';
import { ensureSchedules } from '../worker/schedules.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

const base = loadConfig();
const TASK_QUEUE = 'data-retention-test';
const config: Config = {
  ...base,
  temporal: { ...base.temporal, taskQueue: TASK_QUEUE },
  backup: { ...base.backup, schedulesEnabled: false },
  integrity: { ...base.integrity, scheduleEnabled: false },
  retention: { ...base.retention, scheduleEnabled: true },
};
const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));
const DAYS = 200;
const RETENTION_DAYS = 90; // the fixture's tenants.settings.retentionDays
const MEDIA_EVERY = 4; // the message of every fourth day has a media object
const daysWithMedia = (from: number, to: number) => Array.from({ length: to - from }, (_, index) => from + index).filter((day) => day % MEDIA_EVERY === 0);
// Messages older than 90 days on the seeded lead (days 90..199), plus the stale lead's one; the
// media objects of those of days 92, 96, ..., 196.
const EXPIRED = { messages: DAYS - RETENTION_DAYS + 1, leads: 1, objects: daysWithMedia(RETENTION_DAYS, DAYS).length };

const s3 = createObjectStoreClient(base.s3);
let pools: DatabasePools;
let tokenPool: DatabasePool;
let withTenant: WithTenant;
let tenantA: TenantGraph;
let tenantB: TenantGraph;
let client: Client;
let worker: Worker;
let running: Promise<void>;
let closeWorkerConnection: () => Promise<void>;
let api: ReturnType<typeof createApp>;
let baseUrl: string;
let tokenA: string;
const staleLeadIds = new Map<string, string>();
/** Per tenant: the media key of each day that has one. */
const mediaKeys = new Map<string, Map<number, string>>();

/**
 * 200 messages on the seeded lead, one per day (at mid-day, clear of the cutoff), every fourth with
 * its media object uploaded to the bucket, and four older leads.
 */
const seedHistory = async (tenant: TenantGraph) => withTenant(tenant.tenantId, async (tx) => {
  const { tenantId, botId, leadId } = tenant;
  const keys = new Map(daysWithMedia(0, DAYS).map((day) => [day, messageMediaKey(tenantId, randomUUID(), 'jpg')]));
  mediaKeys.set(tenantId, keys);
  await Promise.all([...keys.values()].map((key) => s3.send(new PutObjectCommand({ Bucket: base.s3.bucket, Key: key, Body: `photo ${key}` }))));
  await tx.query(sql.unsafe`
    INSERT INTO lead_messages (tenant_id, bot_id, lead_id, direction, wa_message_id, body, created_at, media_object_key, media_content_type)
    SELECT ${tenantId}, ${botId}, ${leadId}, 'inbound', 'R-' || d, 'message of day ' || d, now() - make_interval(days => d, hours => 12),
           media.key, CASE WHEN media.key IS NULL THEN NULL ELSE 'image/jpeg' END
      FROM generate_series(0, ${DAYS - 1}) d
      LEFT JOIN unnest(${sql.array([...keys.keys()], 'int4')}::int[], ${sql.array([...keys.values()], 'text')}::text[]) AS media (day, key) ON media.day = d`);
  const lead = (waId: string, score: number, createdDays: number, lastMessageDays: number | null) => tx.oneFirst(sql.type(z.object({ id: z.uuid() }))`
    INSERT INTO leads (tenant_id, bot_id, wa_id, score, created_at, last_message_at)
    VALUES (${tenantId}, ${botId}, ${waId}, ${score}, now() - make_interval(days => ${createdDays}),
            ${lastMessageDays === null ? null : sql.fragment`now() - make_interval(days => ${lastMessageDays})`}) RETURNING id`);
  const stale = await lead('stale', 0, 150, 120);
  await tx.query(sql.unsafe`
    INSERT INTO lead_messages (tenant_id, bot_id, lead_id, direction, wa_message_id, body, created_at)
    VALUES (${tenantId}, ${botId}, ${stale}, 'inbound', 'STALE-1', 'hello', now() - make_interval(days => 120))`);
  await lead('stale-qualified', 100, 150, 120); // qualified (threshold 70): kept
  await lead('recently-active', 0, 150, 10); // unqualified but active: kept
  await lead('never-wrote-old', 0, 80, null); // unqualified, created inside the period: kept
  staleLeadIds.set(tenantId, stale);
});

const figures = z.object({ messages: z.number(), leads: z.number(), digest: z.string() });
/** What the tenant holds, seen by the maintenance role: counts and a digest of its rows. */
const holdings = (tenantId: string) => pools.maintenance.one(sql.type(figures)`
  SELECT (SELECT count(*) FROM lead_messages WHERE tenant_id = ${tenantId})::int AS messages,
         (SELECT count(*) FROM leads WHERE tenant_id = ${tenantId})::int AS leads,
         md5((SELECT string_agg(m::text, ',' ORDER BY m.id) FROM lead_messages m WHERE tenant_id = ${tenantId})
          || (SELECT string_agg(l::text, ',' ORDER BY l.id) FROM leads l WHERE tenant_id = ${tenantId})) AS digest`);

const activities = () => createDataRetentionActivities({
  withTenant, maintenancePool: pools.maintenance, batchSize: 7, objects: { s3, bucket: base.s3.bucket }, operationalLogDays: OPERATIONAL_LOG_DAYS,
});
const OPERATIONAL_LOG_DAYS = 30;

/** Connection events and webhook delivery attempts of the tenant: 10 and 9 past the operational log period, 2 and 1 inside it. */
const seedOperationalLogs = (tenant: TenantGraph) => withTenant(tenant.tenantId, async (tx) => {
  await tx.query(sql.unsafe`
    INSERT INTO bot_session_events (id, tenant_id, bot_id, kind, reason, occurred_at, created_at)
    SELECT gen_random_uuid(), ${tenant.tenantId}, ${tenant.botId}, 'close', 'retention test', t, t
      FROM unnest(ARRAY[now() - interval '1 day', now() - interval '29 days']
                  || ARRAY(SELECT now() - make_interval(days => 31 + n) FROM generate_series(1, 10) n)) AS t`);
  await tx.query(sql.unsafe`
    INSERT INTO owner_webhook_deliveries (tenant_id, webhook_id, event_id, event_type, attempt, status_code, latency_ms, outcome, attempted_at)
    SELECT w.tenant_id, w.id, gen_random_uuid(), 'lead.qualified', 1, 204, 12, 'delivered', now() - make_interval(days => d)
      FROM owner_webhooks w, unnest(ARRAY[2] || ARRAY(SELECT 40 + n FROM generate_series(1, 9) n)) AS d
     WHERE w.tenant_id = ${tenant.tenantId}
     LIMIT 10`);
});
const operationalLogAges = (tenantId: string) => pools.maintenance.one(sql.type(z.object({ oldEvents: z.number(), newEvents: z.number(), oldDeliveries: z.number(), newDeliveries: z.number() }))`
  SELECT (SELECT count(*) FROM bot_session_events WHERE tenant_id = ${tenantId} AND created_at < now() - interval '30 days')::int AS "oldEvents",
         (SELECT count(*) FROM bot_session_events WHERE tenant_id = ${tenantId} AND created_at >= now() - interval '30 days')::int AS "newEvents",
         (SELECT count(*) FROM owner_webhook_deliveries WHERE tenant_id = ${tenantId} AND attempted_at < now() - interval '30 days')::int AS "oldDeliveries",
         (SELECT count(*) FROM owner_webhook_deliveries WHERE tenant_id = ${tenantId} AND attempted_at >= now() - interval '30 days')::int AS "newDeliveries"`);
/** The media objects in the bucket under the tenant's prefix (fewer than S3's 1,000 a page). */
const mediaInBucket = async (tenantId: string) => ((await s3.send(new ListObjectsV2Command({ Bucket: base.s3.bucket, Prefix: `${tenantPrefix(tenantId)}media/` })))
  .Contents ?? []).map((object) => object.Key!).sort();
const keysOfDays = (tenantId: string, from: number, to: number) => daysWithMedia(from, to).map((day) => mediaKeys.get(tenantId)!.get(day)!).sort();
/** The tenants dailyRetention is given: every tenant of the shared test database would be the real list. */
let listedTenants: string[] = [];

const call = async (path: string, token = tokenA) => {
  const response = await fetch(`${baseUrl}/api/v1${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, json: await response.json() as Record<string, unknown> };
};

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  pools = await createDatabasePools(base.database);
  tokenPool = await createTokenAdminPool(base.database);
  withTenant = createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 });
  [tenantA, tenantB] = [await seedTenant(withTenant), await seedTenant(withTenant)];
  await seedHistory(tenantA);
  await seedHistory(tenantB);
  client = await connectTemporalClient(config.temporal);
  const workerConnection = await connectTemporalWorker(config.temporal);
  closeWorkerConnection = () => workerConnection.connection.close();
  worker = await Worker.create({
    ...workerConnection, taskQueue: TASK_QUEUE, workflowsPath, activities: { ...activities(), retentionTenants: async () => listedTenants },
  });
  running = worker.run();
  api = createApp({
    config: base, pools, tokenPool, withTenant, logger: pino({ level: 'silent' }), s3, temporalHealthy: async () => true, temporal: async () => client,
  });
  const server = await api.start(0, '127.0.0.1');
  baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  tokenA = (await issueToken(tokenPool, { tenantId: tenantA.tenantId, name: 'test', expiresAt: null, actor: 'test' }))!.token;
}, 120_000);
afterAll(async () => {
  await client?.schedule.getHandle(RETENTION_DAILY_SCHEDULE_ID).delete().catch((error: unknown) => {
    if (!(error instanceof ScheduleNotFoundError)) throw error;
  });
  await api?.stop();
  worker?.shutdown();
  await running;
  await closeWorkerConnection?.();
  await client?.connection.close();
  const left = [tenantA, tenantB].flatMap((tenant) => [...mediaKeys.get(tenant?.tenantId ?? '')?.values() ?? []]);
  if (left.length > 0) await deleteObjectKeys({ s3, bucket: base.s3.bucket }, left);
  s3.destroy();
  await Promise.all([pools?.end(), tokenPool?.end()]);
});

describe('data retention', () => {
  it('dry-runs: the activity and the API report what a run deletes, and nothing is deleted', async () => {
    const before = await holdings(tenantA.tenantId);
    const preview = await activities().previewRetention({ tenantId: tenantA.tenantId });
    expect(preview).toMatchObject({ retentionDays: RETENTION_DAYS, ...EXPIRED });
    const answer = await call(`/tenants/${tenantA.tenantId}/retention/preview`);
    expect(answer).toEqual({ status: 200, json: { retentionDays: RETENTION_DAYS, cutoff: expect.any(String), wouldDelete: EXPIRED } });
    expect(await holdings(tenantA.tenantId)).toEqual(before);
    expect(await mediaInBucket(tenantA.tenantId)).toEqual(keysOfDays(tenantA.tenantId, 0, DAYS));
    expect(await activities().retentionTenants()).toEqual(expect.arrayContaining([tenantA.tenantId, tenantB.tenantId]));
  });

  it('answers 404 for another tenant\'s id, and says nothing of its data', async () => {
    const answer = await call(`/tenants/${tenantB.tenantId}/retention/preview`);
    expect(answer.status).toBe(404);
    expect(answer.json).not.toHaveProperty('wouldDelete');
    expect((await call(`/tenants/${randomUUID()}/retention/preview`)).status).toBe(404);
  });

  it('deletes exactly the messages older than retentionDays and the stale lead, in batches, audits the counts, and leaves the other tenant untouched', async () => {
    const [beforeA, beforeB] = [await holdings(tenantA.tenantId), await holdings(tenantB.tenantId)];
    // A history limit of 40 events makes the run continue as new every few batches, as a backlog of millions would.
    const handle = await client.workflow.start<typeof tenantRetention>('tenantRetention', {
      workflowId: retentionWorkflowId(tenantA.tenantId), taskQueue: TASK_QUEUE, args: [{ tenantId: tenantA.tenantId, historyEventsLimit: 40 }],
    });
    const result = await handle.result();
    expect(result).toMatchObject({ retentionDays: RETENTION_DAYS, ...EXPIRED });
    const afterA = await holdings(tenantA.tenantId);
    expect(afterA.messages).toBe(beforeA.messages - EXPIRED.messages);
    const oldestDays = await pools.maintenance.oneFirst(sql.type(z.object({ days: z.number() }))`
      SELECT (extract(epoch FROM now() - min(created_at)) / 86400)::float8 AS days FROM lead_messages WHERE tenant_id = ${tenantA.tenantId}`);
    expect(oldestDays).toBeLessThan(RETENTION_DAYS);
    expect(afterA.leads).toBe(beforeA.leads - EXPIRED.leads);
    expect(await pools.maintenance.maybeOne(sql.unsafe`SELECT id FROM leads WHERE id = ${staleLeadIds.get(tenantA.tenantId)!}`)).toBeNull();
    // 16 batches of 7 at least are needed for 111 messages: the runs, followed from the first, ran them as activities.
    let batches = 0;
    const runIds = [handle.firstExecutionRunId];
    for (let index = 0; index < runIds.length; index += 1) {
      const { events } = await client.workflow.getHandle(retentionWorkflowId(tenantA.tenantId), runIds[index]).fetchHistory();
      batches += events!.filter((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'deleteRetentionBatch').length;
      const next = events!.at(-1)!.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
      if (next) runIds.push(next);
    }
    expect(batches).toBeGreaterThanOrEqual(Math.ceil(EXPIRED.messages / 7));
    expect(runIds.length).toBeGreaterThan(1);
    const audit = await pools.maintenance.one(sql.type(z.object({ actor: z.string(), details: z.unknown() }))`
      SELECT actor, details FROM audit_logs WHERE tenant_id = ${tenantA.tenantId} AND action = 'retention.applied'`);
    expect(audit).toEqual({ actor: 'data-retention', details: { retentionDays: RETENTION_DAYS, cutoff: result!.cutoff, ...EXPIRED } });
    expect(await holdings(tenantB.tenantId)).toEqual(beforeB);
    // Exactly the expired messages' objects are gone; the kept messages' and tenant B's are all there.
    expect(await mediaInBucket(tenantA.tenantId)).toEqual(keysOfDays(tenantA.tenantId, 0, RETENTION_DAYS));
    expect(await mediaInBucket(tenantB.tenantId)).toEqual(keysOfDays(tenantB.tenantId, 0, DAYS));
    // Nothing is left to delete: the dry run now says so.
    expect(await activities().previewRetention({ tenantId: tenantA.tenantId })).toMatchObject({ messages: 0, leads: 0, objects: 0 });
  }, 60_000);

  it('registers the Schedule retention-daily: daily, overlap SKIP, starting dailyRetention', async () => {
    expect(await ensureSchedules(client, config)).toEqual([RETENTION_DAILY_SCHEDULE_ID]);
    const described = await client.schedule.getHandle(RETENTION_DAILY_SCHEDULE_ID).describe();
    expect(described.policies).toMatchObject({ overlap: 'SKIP', catchupWindow: 3_600_000 });
    expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'dailyRetention', taskQueue: TASK_QUEUE, args: [] });
    const [next, after] = described.info.nextActionTimes;
    expect(after!.getTime() - next!.getTime()).toBe(24 * 3_600_000);
  });

  it('runs one child per listed tenant; a tenant that fails is reported and does not stop the others', async () => {
    const audits = () => pools.maintenance.oneFirst(sql.type(z.object({ count: z.number() }))`
      SELECT count(*)::int AS count FROM audit_logs WHERE tenant_id = ${tenantA.tenantId} AND action = 'retention.applied'`);
    const before = await audits();
    listedTenants = ['not-a-uuid', randomUUID(), tenantA.tenantId];
    const result = await client.workflow.execute<typeof dailyRetention>('dailyRetention', {
      workflowId: `retention-daily-test-${randomUUID()}`, taskQueue: TASK_QUEUE, args: [],
    });
    expect(result).toMatchObject({ tenants: 3, failed: ['not-a-uuid'] });
    // Tenant A ran after the failure: nothing left to delete, and the run is audited.
    expect(await audits()).toBe(before + 1);
  }, 60_000);

  it('then deletes every tenant\'s connection events and webhook delivery attempts past OPERATIONAL_LOG_RETENTION_DAYS, in batches, and keeps the newer', async () => {
    await seedOperationalLogs(tenantB);
    expect(await operationalLogAges(tenantB.tenantId)).toMatchObject({ oldEvents: 10, oldDeliveries: 9 });
    const { newEvents, newDeliveries } = await operationalLogAges(tenantB.tenantId);
    listedTenants = [];
    const result = await client.workflow.execute<typeof dailyRetention>('dailyRetention', {
      workflowId: `retention-daily-test-${randomUUID()}`, taskQueue: TASK_QUEUE, args: [],
    });
    // Tenant B is not among the tenants with a retention period: its operational logs go all the same.
    expect(result.tenants).toBe(0);
    expect(result.operationalLogsPruned!.bot_session_events).toBeGreaterThanOrEqual(10);
    expect(result.operationalLogsPruned!.owner_webhook_deliveries).toBeGreaterThanOrEqual(9);
    expect(await operationalLogAges(tenantB.tenantId)).toEqual({ oldEvents: 0, newEvents, oldDeliveries: 0, newDeliveries });
  }, 60_000);
});
