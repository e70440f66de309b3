// Tenant delete on real Postgres, Temporal and S3. Tenant A holds a full graph of rows (every table
// the fixture writes, its API token, integrity records), objects under its prefix, a Temporal
// Schedule and a running workflow; tenant B the same rows and objects. The dry run (API) reports
// all of it and deletes nothing; the delete (API -> workflow tenant-delete/<tenantId>) leaves no row
// of A in any table with tenant_id (from the catalogue), no object under its prefix, no Schedule and
// no running workflow, keeps the tombstone and a platform audit row, matches the dry run, and leaves
// tenant B untouched. Tenant tokens get 403, an unknown tenant 404.
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { pino } from 'pino';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { TenantDeletedError, createTenantLinkActivities } from '../activities/bot-tenant/link-tenant.ts';
import { deleteObjectKeys } from '../core/delete-objects.ts';
import { createTenantDeleteActivities } from '../activities/tenant-delete/index.ts';
import { createApp } from '../api/app.ts';
import { issueToken } from '../api/token-store.ts';
import { loadConfig, type Config } from '../core/config.ts';
import { createDatabasePools, createTokenAdminPool, type DatabasePools } from '../core/db/pools.ts';
import { createWithTenant, type WithTenant } from '../core/db/with-tenant.ts';
import { tenantPrefix } from '../core/object-keys.ts';
import { createObjectStoreClient } from '../core/object-store.ts';
import { connectTemporalClient, connectTemporalWorker } from '../core/temporal/client.ts';
import { tenantScheduleId } from '../core/temporal/schedules.ts';
import { tenantSearchAttributes } from '../core/temporal/search-attributes.ts';
import type { TenantDeleteResult } from '../core/temporal/tenant-delete.ts';
import { TOMBSTONES_PREFIX } from '../core/tenant-delete/tombstone.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

const base = loadConfig();
const TASK_QUEUE = `tenant-delete-test-${randomUUID().slice(0, 8)}`;
const config: Config = { ...base, temporal: { ...base.temporal, taskQueue: TASK_QUEUE } };
const bucket = base.s3.bucket;

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
let adminToken: string;
let tokenA: string;
const scheduleIdA = () => tenantScheduleId(tenantA.tenantId, randomUUID());
let scheduleA: string;
let waitingWorkflowA: string;

const id = z.object({ id: z.uuid() });
const tableName = z.object({ name: z.string() });
const count = z.object({ n: z.number() });

/** Rows of `tenantId` in every table with a tenant_id column, and its tenants row: by the catalogue, not a list kept by hand. */
const rowsOf = async (tenantId: string): Promise<Record<string, number>> => {
  const tables = await pools.maintenance.anyFirst(sql.type(tableName)`
    SELECT table_name AS name FROM information_schema.columns
     WHERE table_schema = 'public' AND column_name = 'tenant_id'
       AND table_name IN (SELECT tablename FROM pg_tables WHERE schemaname = 'public') ORDER BY 1`);
  const counts: Record<string, number> = {
    tenants: await pools.maintenance.oneFirst(sql.type(count)`SELECT count(*)::int AS n FROM tenants WHERE id = ${tenantId}`),
  };
  for (const table of tables) {
    counts[table] = await pools.maintenance.oneFirst(sql.type(count)`SELECT count(*)::int AS n FROM ${sql.identifier([table])} WHERE tenant_id = ${tenantId}`);
  }
  return counts;
};
const nonEmpty = (counts: Record<string, number>) => Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));

const objectsUnder = async (prefix: string) =>
  ((await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }))).Contents ?? []).map((object) => ({ key: object.Key!, bytes: object.Size! }))
    .sort((a, b) => a.key.localeCompare(b.key));

const call = async (method: string, path: string, token: string) => {
  const response = await fetch(`${baseUrl}/api/v1${path}`, { method, headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, json: await response.json() as Record<string, unknown> };
};

/** What the fixture does not write: a media object row, integrity records, and objects in S3. */
const seedMore = async (tenant: TenantGraph) => {
  const { tenantId } = tenant;
  const run = await pools.maintenance.oneFirst(sql.type(id)`
    INSERT INTO integrity_runs (scope, scope_tenant_id, workflow_id) VALUES (${`tenant-${tenantId}`}, ${tenantId}, 'test') RETURNING id`);
  await pools.maintenance.query(sql.unsafe`
    INSERT INTO integrity_findings (run_id, check_name, severity, finding_key, affected_tenant_id, summary, details)
    VALUES (${run}, 'orphan-rows', 'warning', ${`tenant:${tenantId}`}, ${tenantId}, 'fixture', '{}')`);
  for (const [name, body] of [['images/a.png', 'png bytes'], ['media/b.ogg', 'voice note'], ['sessions/2026-01-01T00-00-00-000Z.tar.gz.enc', 'sealed']] as const) {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${tenantPrefix(tenantId)}${name}`, Body: body }));
  }
};

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  pools = await createDatabasePools(base.database);
  tokenPool = await createTokenAdminPool(base.database);
  withTenant = createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 });
  [tenantA, tenantB] = [await seedTenant(withTenant), await seedTenant(withTenant)];
  await seedMore(tenantA);
  await seedMore(tenantB);
  client = await connectTemporalClient(config.temporal);
  const workerConnection = await connectTemporalWorker(config.temporal);
  closeWorkerConnection = () => workerConnection.connection.close();
  worker = await Worker.create({
    ...workerConnection, taskQueue: TASK_QUEUE, workflowsPath: fileURLToPath(new URL('../workflows/index.ts', import.meta.url)),
    activities: createTenantDeleteActivities({ maintenancePool: pools.maintenance, objects: { s3, bucket }, temporal: client }),
  });
  running = worker.run();
  // A paused Schedule of tenant A, and a workflow of A that waits on its (absent) bot pod.
  scheduleA = scheduleIdA();
  await client.schedule.create({
    scheduleId: scheduleA, spec: { cronExpressions: ['0 9 * * 1'] }, state: { paused: true },
    action: { type: 'startWorkflow', workflowType: 'readBotStatus', taskQueue: TASK_QUEUE, args: [{ tenantId: tenantA.tenantId }] },
  });
  waitingWorkflowA = `tenant-delete-test/${tenantA.tenantId}/snapshot`;
  await client.workflow.start('snapshotTenantSessions', {
    workflowId: waitingWorkflowA, taskQueue: TASK_QUEUE, args: [{ tenantId: tenantA.tenantId, objectKey: `${tenantPrefix(tenantA.tenantId)}sessions/x.tar.gz.enc` }],
    typedSearchAttributes: tenantSearchAttributes({ tenantId: tenantA.tenantId }),
  });
  api = createApp({
    config, pools, tokenPool, withTenant, logger: pino({ level: 'silent' }), s3, temporalHealthy: async () => true, temporal: async () => client,
  });
  const server = await api.start(0, '127.0.0.1');
  baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  adminToken = (await issueToken(tokenPool, { tenantId: null, name: 'platform', expiresAt: null, actor: 'test' }))!.token;
  tokenA = (await issueToken(tokenPool, { tenantId: tenantA.tenantId, name: 'tenant-a', expiresAt: null, actor: 'test' }))!.token;
}, 120_000);
afterAll(async () => {
  await api?.stop();
  worker?.shutdown();
  await running;
  await closeWorkerConnection?.();
  await client?.workflow.getHandle(waitingWorkflowA).terminate('test over').catch(() => undefined);
  await client?.schedule.getHandle(scheduleA).delete().catch(() => undefined);
  await client?.connection.close();
  const left = [...await objectsUnder(tenantPrefix(tenantB.tenantId)), ...await objectsUnder(`${TOMBSTONES_PREFIX}${tenantA.tenantId}/`)];
  await deleteObjectKeys({ s3, bucket }, left.map((object) => object.key));
  s3.destroy();
  await Promise.all([pools?.end(), tokenPool?.end()]);
});

type DryRun = { dryRun: true; tenantId: string; rows: Record<string, number>; objects: { count: number; bytes: number }; schedules: string[]; runningWorkflows: { workflowId: string; type: string }[] };

describe('tenant delete', () => {
  it('is for platform admins: a tenant token gets 403, even on its own tenant; an unknown tenant is 404; a bad dryRun is 400', async () => {
    for (const query of ['?dryRun=true', '']) {
      expect((await call('DELETE', `/tenants/${tenantA.tenantId}${query}`, tokenA)).status).toBe(403);
    }
    expect((await call('GET', `/tenants/${tenantA.tenantId}/deletion`, tokenA)).status).toBe(403);
    for (const query of ['?dryRun=true', '']) {
      const unknown = await call('DELETE', `/tenants/${randomUUID()}${query}`, adminToken);
      expect({ status: unknown.status, title: unknown.json.title }).toEqual({ status: 404, title: 'Not found' });
    }
    expect((await call('GET', `/tenants/${randomUUID()}/deletion`, adminToken)).status).toBe(404);
    expect((await call('DELETE', `/tenants/${tenantA.tenantId}?dryRun=yes`, adminToken)).status).toBe(400);
    expect((await call('DELETE', `/tenants/not-a-uuid`, adminToken)).status).toBe(400);
  });

  let dryRun: DryRun;

  it('the dry run reports every row (every table with tenant_id), object, Schedule and running workflow, and deletes nothing', async () => {
    const rowsBefore = nonEmpty(await rowsOf(tenantA.tenantId));
    const objectsBefore = await objectsUnder(tenantPrefix(tenantA.tenantId));
    const answer = await call('DELETE', `/tenants/${tenantA.tenantId}?dryRun=true`, adminToken);
    expect(answer.status).toBe(200);
    dryRun = answer.json as unknown as DryRun;
    expect(dryRun.rows).toEqual(rowsBefore);
    // The fixture's graph: every table it writes is reported.
    expect(Object.keys(dryRun.rows)).toEqual(expect.arrayContaining(['tenants', 'users', 'bots', 'leads', 'lead_messages', 'audit_logs', 'data_change_audit', 'api_tokens', 'schedules', 'email_deliveries']));
    expect(dryRun.objects).toEqual({ count: objectsBefore.length, bytes: objectsBefore.reduce((sum, object) => sum + object.bytes, 0) });
    expect(dryRun.objects.count).toBe(3);
    expect(dryRun.schedules).toEqual([scheduleA]);
    expect(dryRun.runningWorkflows).toEqual(expect.arrayContaining([{ workflowId: waitingWorkflowA, type: 'snapshotTenantSessions' }]));
    expect(nonEmpty(await rowsOf(tenantA.tenantId))).toEqual(rowsBefore);
    expect(await objectsUnder(tenantPrefix(tenantA.tenantId))).toEqual(objectsBefore);
    await client.schedule.getHandle(scheduleA).describe();
  });

  it('deletes: no row of the tenant in any table, no object under its prefix, no Schedule, no running workflow; a tombstone; tenant B untouched', async () => {
    const rowsB = await rowsOf(tenantB.tenantId);
    const objectsB = await objectsUnder(tenantPrefix(tenantB.tenantId));
    const answer = await call('DELETE', `/tenants/${tenantA.tenantId}`, adminToken);
    expect(answer).toEqual({ status: 202, json: {
      dryRun: false, workflowId: `tenant-delete/${tenantA.tenantId}`, runId: expect.any(String), alreadyStarted: false,
      statusPath: `/api/v1/tenants/${tenantA.tenantId}/deletion`,
    } });
    const result = await client.workflow.getHandle(answer.json.workflowId as string).result() as TenantDeleteResult;

    // What was removed is what the dry run said would be.
    expect(result.rows).toEqual(dryRun.rows);
    expect(result.objects).toEqual(dryRun.objects);
    expect(result.schedulesDeleted).toBe(dryRun.schedules.length);
    expect(result.workflowsTerminated).toBe(dryRun.runningWorkflows.length);
    // No bot pod runs in this test: there is no session to keep, and the tombstone says why.
    expect(result.sessionSnapshot).toEqual({ skipped: expect.stringContaining(`bot-pod.${tenantA.tenantId}`) });

    expect(nonEmpty(await rowsOf(tenantA.tenantId))).toEqual({});
    expect(await objectsUnder(tenantPrefix(tenantA.tenantId))).toEqual([]);
    await expect(client.schedule.getHandle(scheduleA).describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
    expect((await client.workflow.getHandle(waitingWorkflowA).describe()).status.name).toBe('TERMINATED');

    expect(await rowsOf(tenantB.tenantId)).toEqual(rowsB);
    expect(await objectsUnder(tenantPrefix(tenantB.tenantId))).toEqual(objectsB);

    const status = await call('GET', `/tenants/${tenantA.tenantId}/deletion`, adminToken);
    expect(status).toEqual({ status: 200, json: {
      workflowId: `tenant-delete/${tenantA.tenantId}`, status: 'COMPLETED',
      tombstone: {
        tenantId: tenantA.tenantId, slug: `tenant-${tenantA.tenantId.slice(0, 8)}`, nameHash: expect.stringMatching(/^[0-9a-f]{64}$/),
        counts: { rows: dryRun.rows, objects: dryRun.objects, schedulesDeleted: 1, workflowsTerminated: dryRun.runningWorkflows.length },
        sessionSnapshot: result.sessionSnapshot, deletedBy: expect.stringMatching(/^api:/),
        requestedAt: expect.any(String), rowsDeletedAt: expect.any(String), completedAt: expect.any(String),
      },
    } });
    // The tombstone holds no personal data: the tenant's name only as a hash.
    expect(JSON.stringify(status.json)).not.toContain('"Tenant"');
    const audit = await pools.maintenance.any(sql.type(z.object({ action: z.string(), details: z.record(z.string(), z.unknown()) }))`
      SELECT action, details FROM audit_logs WHERE tenant_id IS NULL AND details ->> 'tenantId' = ${tenantA.tenantId} ORDER BY created_at`);
    expect(audit.map((row) => row.action)).toEqual(['tenant.delete-requested', 'tenant.deleted']);

    // The tenant's token is refused now (its row is gone), and the tenant is 404.
    expect((await call('GET', `/tenants/${tenantA.tenantId}`, tokenA)).status).toBe(401);
    expect((await call('DELETE', `/tenants/${tenantA.tenantId}?dryRun=true`, adminToken)).status).toBe(404);
  }, 120_000);

  it('is idempotent: the workflow run again deletes nothing more and answers the recorded counts', async () => {
    const again = await client.workflow.execute('deleteTenant', {
      workflowId: `tenant-delete/${tenantA.tenantId}-again`, taskQueue: TASK_QUEUE,
      args: [{ tenantId: tenantA.tenantId, requestedBy: 'test', requestedAt: new Date().toISOString() }],
    }) as TenantDeleteResult;
    expect(again.rows).toEqual(dryRun.rows);
    expect(again.objects).toEqual(dryRun.objects);
    expect(await pools.maintenance.oneFirst(sql.type(count)`SELECT count(*)::int AS n FROM tenant_tombstones WHERE id = ${tenantA.tenantId}`)).toBe(1);
  }, 60_000);

  it('a BotTenant left in the cluster never brings the deleted tenant back: its link refuses, readably', async () => {
    const link = createTenantLinkActivities({ withTenant }).linkTenantRow({ tenantId: tenantA.tenantId, resourceName: 'left-behind', displayName: 'Tenant' });
    await expect(link).rejects.toThrow(TenantDeletedError);
    await expect(link).rejects.toThrow(/was deleted .*delete BotTenant left-behind/);
    expect(nonEmpty(await rowsOf(tenantA.tenantId))).toEqual({});
  });
});
