// The integrity checks that read the bucket and Temporal, on a real S3 server (a bucket of this
// file's own) and the real Temporal dev server (a namespace of this file's own): each defect is
// planted on purpose, found exactly, fixed once approved, verified gone, and undone where possible.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client,
} from '@aws-sdk/client-s3';
import type { Client } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import { Worker } from '@temporalio/worker';
import { pino } from 'pino';
import { sql } from 'slonik';
import { z } from 'zod';
import { createApp } from '../api/app.ts';
import { issueToken } from '../api/token-store.ts';
import { createDataIntegrityActivities, type DataIntegrityActivities } from '../activities/data-integrity/index.ts';
import { headObject } from '../activities/data-integrity/object-moves.ts';
import { listObjects } from '../activities/data-integrity/sources/list-objects.ts';
import type { IntegrityOutside } from '../activities/data-integrity/sources/index.ts';
import { FixNotUndoableError } from '../activities/data-integrity/undo-fix.ts';
import { loadConfig } from '../core/config.ts';
import { createObjectStoreClient } from '../core/object-store.ts';
import { messageMediaKey, quarantineKey, sessionsObjectKey, sessionSnapshotKey } from '../core/object-keys.ts';
import { createTokenAdminPool } from '../core/db/pools.ts';
import { connectTemporalClient, connectTemporalWorker } from '../core/temporal/client.ts';
import { LEAD_CONVERSATION_WORKFLOW, leadWorkflowId } from '../core/temporal/lead-conversation.ts';
import { registerSearchAttributes } from '../core/temporal/register-search-attributes.ts';
import { tenantSearchAttributes } from '../core/temporal/search-attributes.ts';
import { createIntegrityDatabase, FRESH_BACKUP_ID, type IntegrityDatabase } from './support/integrity-database.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

const config = loadConfig();
const bucket = `integrity-${randomUUID().slice(0, 8)}`;
let db: IntegrityDatabase;
let tenant: TenantGraph;
let s3: S3Client;
let temporal: Client;
let outside: IntegrityOutside;
let activities: DataIntegrityActivities;
const taskQueue = `integrity-outside-${randomUUID().slice(0, 8)}`;
let worker: Worker;
let running: Promise<void>;
let closeWorkerConnection: () => Promise<void>;
let api: ReturnType<typeof createApp>;
let apiBase: string;
let platformToken: string;
let tokenPool: Awaited<ReturnType<typeof createTokenAdminPool>>;

const undoThroughApi = async (fixId: string) => {
  const response = await fetch(`${apiBase}/data-integrity/fix-issues`, {
    method: 'POST', headers: { authorization: `Bearer ${platformToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ undo: [fixId] }),
  });
  return { status: response.status, json: await response.json() as Record<string, unknown> };
};

const put = (key: string, body = 'bytes') => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
const exists = async (key: string) => (await headObject({ s3, bucket }, key)) !== null;
const read = async (key: string) => (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString();
const imageKey = () => `tenants/${tenant.tenantId}/images/a.png`;
const manifest = 'backups/manifest.json';

/** A namespace of this file's own: no other test's lead workflows are listed in it. */
const connectFreshNamespace = async () => {
  const base = await connectTemporalClient(config.temporal);
  const namespace = `integrity-${randomUUID().slice(0, 8)}`;
  await base.connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
  for (const deadline = Date.now() + 30_000; ; await sleep(200)) {
    try {
      await registerSearchAttributes(base.connection, namespace);
      // Registered is not yet usable: the server's namespace cache takes the new attributes at its next refresh.
      await base.connection.workflowService.listWorkflowExecutions({ namespace, query: `TenantId = '${randomUUID()}'`, pageSize: 1 });
      break;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
  }
  await base.connection.close();
  return namespace;
};

beforeAll(async () => {
  db = await createIntegrityDatabase(config);
  tenant = await seedTenant(db.withTenant);
  s3 = createObjectStoreClient(config.s3);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  // What a running platform holds: the image's object, the fixture backup's manifest and the tenant's sessions in it.
  await Promise.all([put(imageKey()), put(manifest), put(sessionsObjectKey(FRESH_BACKUP_ID, tenant.tenantId))]);
  const temporalConfig = { ...config.temporal, namespace: await connectFreshNamespace(), taskQueue };
  temporal = await connectTemporalClient(temporalConfig);
  outside = { storage: { s3, bucket }, temporal, graceSeconds: 0 };
  activities = createDataIntegrityActivities({ maintenancePool: db.pools.maintenance, outside });
  // For the API's undo, which runs integrity-undo/<fixId> on a worker.
  const workerConnection = await connectTemporalWorker(temporalConfig);
  closeWorkerConnection = () => workerConnection.connection.close();
  worker = await Worker.create({
    ...workerConnection, taskQueue, workflowsPath: fileURLToPath(new URL('../workflows/index.ts', import.meta.url)), activities,
  });
  running = worker.run();
  tokenPool = await createTokenAdminPool(db.database);
  api = createApp({
    config: { ...config, database: db.database, temporal: temporalConfig }, pools: db.pools, tokenPool, withTenant: db.withTenant,
    logger: pino({ level: 'silent' }), s3, temporalHealthy: async () => true, temporal: async () => temporal,
  });
  const server = await api.start(0, '127.0.0.1');
  apiBase = `http://127.0.0.1:${(server.address() as { port: number }).port}/api/v1`;
  platformToken = (await issueToken(tokenPool, { tenantId: null, name: 'integrity-outside', expiresAt: null, actor: 'test' }))!.token;
}, 120_000);
afterAll(async () => {
  await api.stop();
  await tokenPool.end();
  worker.shutdown();
  await running;
  await closeWorkerConnection();
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  if (listed.Contents?.length) await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: listed.Contents.map(({ Key }) => ({ Key })) } }));
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
  s3.destroy();
  await temporal.connection.close();
  await db.drop();
});

type Transaction = Parameters<Parameters<IntegrityDatabase['owner']['transaction']>[0]>[0];
/** As the owner, acting as the tenant (RLS is forced on the owner too). */
const asTenantOwner = <T>(work: (tx: Transaction) => Promise<T>) => db.asTenantOwner(tenant.tenantId, work);

const findings = z.object({ check: z.string(), key: z.string(), tenantId: z.uuid().nullable(), details: z.record(z.string(), z.unknown()) });
const OUTSIDE_CHECKS = ['rows-missing-objects', 'unclaimed-objects', 'session-snapshot-age', 'stray-lead-workflows'];

/** A recorded platform run (or tenant run): its findings of the checks that read the bucket or Temporal. */
const run = async (scope = 'platform', using = activities) => {
  const recorded = await using.integrityRunChecks({ scope, workflowId: 'test' });
  const found = await db.pools.maintenance.any(sql.type(findings)`
    SELECT check_name AS "check", finding_key AS key, affected_tenant_id AS "tenantId", details
      FROM integrity_findings WHERE run_id = ${recorded.runId} AND check_name = ANY(${sql.array(OUTSIDE_CHECKS, 'text')}) ORDER BY check_name, finding_key`);
  return { recorded, found };
};

const fixLog = (fixId: string) => db.pools.maintenance.any(sql.type(z.object({ operation: z.string(), rowKey: z.string(), tableName: z.string().nullable() }))`
  SELECT operation, row_key AS "rowKey", table_name AS "tableName" FROM integrity_fix_log WHERE fix_id = ${fixId} ORDER BY position`);

describe('data-integrity checks of the bucket and of Temporal', () => {
  it('a clean platform yields no finding of them, in a platform run and in a tenant run, and plans nothing', async () => {
    const platform = await run();
    expect(platform.found).toEqual([]);
    expect(platform.recorded).toEqual({ runId: expect.any(String), findings: 0, fixes: [], alerts: [] });
    expect((await run(`tenant-${tenant.tenantId}`)).found).toEqual([]);
  });

  it('without the bucket and Temporal, a runner leaves out exactly the checks that need them', async () => {
    const recorded = await createDataIntegrityActivities({ maintenancePool: db.pools.maintenance }).integrityRunChecks({ scope: 'platform', workflowId: 'test' });
    const checks = await db.pools.maintenance.oneFirst(sql.type(z.object({ checks: z.record(z.string(), z.unknown()) }))`
      SELECT checks FROM integrity_runs WHERE id = ${recorded.runId}`);
    expect(Object.keys(checks).filter((name) => OUTSIDE_CHECKS.includes(name))).toEqual([]);
    expect(Object.keys(checks).length).toBeGreaterThan(0);
  });

  it('the bucket is listed to its end, past S3\'s 1,000 keys per page', async () => {
    const prefix = `paged-${randomUUID().slice(0, 8)}/`;
    const keys = Array.from({ length: 1_003 }, (_, index) => `${prefix}${String(index).padStart(4, '0')}`);
    for (let start = 0; start < keys.length; start += 100) await Promise.all(keys.slice(start, start + 100).map((key) => put(key, 'x')));
    try {
      expect((await listObjects(s3, bucket, prefix)).map((object) => object.key)).toEqual(keys);
    } finally {
      for (let start = 0; start < keys.length; start += 1000) {
        await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.slice(start, start + 1000).map((Key) => ({ Key })) } }));
      }
    }
  }, 60_000);

  it('unclaimed objects: found (not while younger than the grace), quarantined once approved, verified, and moved back by undo', async () => {
    const goneTenant = randomUUID();
    const stray = `tenants/${tenant.tenantId}/images/stray.png`;
    const ofGoneTenant = sessionSnapshotKey(goneTenant, '2026-11-01T00:00:00.000Z');
    const notATenant = 'tenants/not-a-uuid/x.bin';
    const keptSnapshot = sessionSnapshotKey(tenant.tenantId, '2026-11-02T00:00:00.000Z');
    await Promise.all([put(stray, 'stray'), put(ofGoneTenant, 'old sessions'), put(notATenant), put(keptSnapshot)]);
    try {
      // Uploaded just now: a run with the default grace leaves them for later (their rows may be on the way).
      const patient = createDataIntegrityActivities({ maintenancePool: db.pools.maintenance, outside: { ...outside, graceSeconds: 900 } });
      expect((await run('platform', patient)).found).toEqual([]);

      const { recorded, found } = await run();
      expect(found.map(({ check, key, tenantId, details }) => ({ check, key, tenantId, reason: details.reason }))).toEqual([
        { check: 'unclaimed-objects', key: `object:${notATenant}`, tenantId: null, reason: 'not-a-tenant' },
        { check: 'unclaimed-objects', key: `object:${ofGoneTenant}`, tenantId: goneTenant, reason: 'tenant-missing' },
        { check: 'unclaimed-objects', key: `object:${stray}`, tenantId: tenant.tenantId, reason: 'no-row' },
      ].sort((a, b) => a.key.localeCompare(b.key)));
      // A tenant run lists only its own prefix.
      expect((await run(`tenant-${tenant.tenantId}`)).found.map(({ key }) => key)).toEqual([`object:${stray}`]);

      const fix = recorded.fixes.find((planned) => planned.findingKey === `object:${stray}`)!;
      expect(fix.class).toBe('approval');
      // Not applied without its approval.
      expect(await activities.integrityApplyFix({ fixId: fix.fixId, approvedBy: null })).toEqual({ fixId: fix.fixId, status: 'planned', failure: null });
      expect(await exists(stray)).toBe(true);

      expect(await activities.integrityApplyFix({ fixId: fix.fixId, approvedBy: 'ops' })).toEqual({ fixId: fix.fixId, status: 'applied', failure: null });
      expect(await activities.integrityApplyFix({ fixId: fix.fixId, approvedBy: 'ops' })).toEqual({ fixId: fix.fixId, status: 'applied', failure: null });
      expect(await exists(stray)).toBe(false);
      expect(await read(quarantineKey(fix.fixId, stray))).toBe('stray');
      expect(await fixLog(fix.fixId)).toEqual([{ operation: 'quarantine-object', rowKey: stray, tableName: null }]);

      expect(await activities.integrityVerifyFixes({ scope: 'platform', fixIds: [fix.fixId] })).toEqual([{ fixId: fix.fixId, status: 'verified', failure: null }]);
      expect((await run()).found.map(({ key }) => key)).not.toContain(`object:${stray}`);

      // Through the API, as an operator would: integrity-undo/<fixId> on the worker.
      expect(await undoThroughApi(fix.fixId)).toEqual({ status: 200, json: { undone: [fix.fixId] } });
      expect(await read(stray)).toBe('stray');
      expect(await exists(quarantineKey(fix.fixId, stray))).toBe(false);
      await expect(activities.integrityUndoFix({ fixId: fix.fixId, actor: 'test' })).rejects.toThrow(/already undone/);
    } finally {
      await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [stray, ofGoneTenant, notATenant, keptSnapshot].map((Key) => ({ Key })) } }));
    }
  });

  it('an undo that would overwrite a newer object at the same key is refused, and the quarantined copy is kept', async () => {
    const stray = `tenants/${tenant.tenantId}/images/again.png`;
    await put(stray, 'first');
    try {
      const fix = (await run()).recorded.fixes.find((planned) => planned.findingKey === `object:${stray}`)!;
      await activities.integrityApplyFix({ fixId: fix.fixId, approvedBy: 'ops' });
      await put(stray, 'uploaded since');
      await expect(activities.integrityUndoFix({ fixId: fix.fixId, actor: 'test' })).rejects.toThrow(
        new FixNotUndoableError(`fix ${fix.fixId} cannot be undone: another object now exists at ${stray}`));
      expect(await read(stray)).toBe('uploaded since');
      expect(await read(quarantineKey(fix.fixId, stray))).toBe('first');
    } finally {
      await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: stray }] } }));
    }
  });

  it('rows missing their objects: an image (deleted with approval, its product cleared, both restored by undo) and a backup manifest (reported)', async () => {
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: imageKey() }, { Key: manifest }] } }));
    try {
      const { recorded, found } = await run();
      expect(found.map(({ check, key, tenantId }) => ({ check, key, tenantId }))).toEqual([
        { check: 'rows-missing-objects', key: `backups:${FRESH_BACKUP_ID}`, tenantId: null },
        { check: 'rows-missing-objects', key: `bot_images:${tenant.imageId}`, tenantId: tenant.tenantId },
      ]);
      // Only the image has a fix: a backup's lost manifest is for a person (docs/backups.md).
      expect(recorded.fixes).toEqual([{ fixId: expect.any(String), check: 'rows-missing-objects', class: 'approval', findingKey: `bot_images:${tenant.imageId}` }]);
      const { fixId } = recorded.fixes[0]!;

      expect(await activities.integrityApplyFix({ fixId, approvedBy: 'ops' })).toEqual({ fixId, status: 'applied', failure: null });
      expect(await fixLog(fixId)).toEqual([
        { operation: 'update', rowKey: tenant.productId, tableName: 'products' },
        { operation: 'delete', rowKey: tenant.imageId, tableName: 'bot_images' },
      ]);
      const state = () => asTenantOwner(async (tx) => ({
        image: await tx.exists(sql.unsafe`SELECT 1 FROM bot_images WHERE id = ${tenant.imageId}`),
        productImage: await tx.oneFirst(sql.type(z.object({ image_id: z.uuid().nullable() }))`SELECT image_id FROM products WHERE id = ${tenant.productId}`),
      }));
      expect(await state()).toEqual({ image: false, productImage: null });
      expect(await activities.integrityVerifyFixes({ scope: 'platform', fixIds: [fixId] })).toEqual([{ fixId, status: 'verified', failure: null }]);
      expect((await run()).found.map(({ key }) => key)).toEqual([`backups:${FRESH_BACKUP_ID}`]);

      await activities.integrityUndoFix({ fixId, actor: 'test' });
      expect(await state()).toEqual({ image: true, productImage: tenant.imageId });
    } finally {
      await Promise.all([put(imageKey()), put(manifest)]);
    }
    expect((await run()).found).toEqual([]);
  });

  it('a message\'s media object is claimed by its row (not unclaimed), and a row whose media is gone is found (reported, no fix)', async () => {
    const media = messageMediaKey(tenant.tenantId, randomUUID(), 'jpg');
    const messageId = await asTenantOwner((tx) => tx.oneFirst(sql.type(z.object({ id: z.uuid() }))`
      INSERT INTO lead_messages (tenant_id, bot_id, lead_id, direction, wa_message_id, body, media_object_key, media_content_type)
      VALUES (${tenant.tenantId}, ${tenant.botId}, ${tenant.leadId}, 'inbound', 'WAMID-MEDIA-1', '', ${media}, 'image/jpeg') RETURNING id`));
    await put(media, 'a photo');
    try {
      expect((await run()).found).toEqual([]);
      await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: media }] } }));
      const { recorded, found } = await run();
      expect(found.map(({ check, key, tenantId, details }) => ({ check, key, tenantId, details }))).toEqual([{
        check: 'rows-missing-objects', key: `lead_messages:${messageId}`, tenantId: tenant.tenantId,
        details: { table: 'lead_messages', id: messageId, objectKey: media, botId: tenant.botId },
      }]);
      expect(recorded.fixes).toEqual([]);
    } finally {
      await asTenantOwner((tx) => tx.query(sql.unsafe`DELETE FROM lead_messages WHERE id = ${messageId}`));
      await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: media }] } }));
    }
    expect((await run()).found).toEqual([]);
  });

  it('a fix approved after the object came back changes nothing and fails readably', async () => {
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: imageKey() }] } }));
    const { fixId } = (await run()).recorded.fixes[0]!;
    await put(imageKey());
    expect(await activities.integrityApplyFix({ fixId, approvedBy: 'ops' })).toEqual({
      fixId, status: 'failed', failure: `Error: object ${imageKey()} exists again: nothing to fix`,
    });
    expect(await fixLog(fixId)).toEqual([]);
    expect(await asTenantOwner((tx) => tx.exists(sql.unsafe`SELECT 1 FROM bot_images WHERE id = ${tenant.imageId}`))).toBe(true);
  });

  it('session snapshots: a tenant left out of the newest complete backup is found until a newer snapshot exists', async () => {
    const newerBackup = '20261126T010000Z-0badc0df';
    await db.owner.query(sql.unsafe`
      INSERT INTO backups (id, kind, status, workflow_id, started_at, completed_at, manifest_key, total_bytes)
      VALUES (${newerBackup}, 'manual', 'complete', 'backup-test', now() + interval '2 minutes', now() + interval '2 minutes', ${`backups/${newerBackup}/manifest.json`}, 1)`);
    await put(`backups/${newerBackup}/manifest.json`);
    try {
      // The tenant's newest snapshot is the one in the older backup.
      const { recorded, found } = await run();
      expect(found.map(({ check, key, tenantId, details }) => ({ check, key, tenantId, details }))).toEqual([{
        check: 'session-snapshot-age', key: `tenant:${tenant.tenantId}`, tenantId: tenant.tenantId,
        details: { newestSnapshotAt: expect.any(String), newestBackupId: newerBackup },
      }]);
      expect(recorded.fixes).toEqual([]);
      await put(sessionsObjectKey(newerBackup, tenant.tenantId));
      expect((await run()).found).toEqual([]);
      await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: sessionsObjectKey(newerBackup, tenant.tenantId) }] } }));
      expect((await run()).found.map(({ key }) => key)).toEqual([`tenant:${tenant.tenantId}`]);
      // No snapshot at all while the tenant has bots.
      await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: sessionsObjectKey(FRESH_BACKUP_ID, tenant.tenantId) }] } }));
      expect((await run()).found.map(({ key, details }) => ({ key, details }))).toEqual([
        { key: `tenant:${tenant.tenantId}`, details: { newestSnapshotAt: null, newestBackupId: newerBackup } },
      ]);
    } finally {
      await db.owner.query(sql.unsafe`DELETE FROM backups WHERE id = ${newerBackup}`);
      await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: `backups/${newerBackup}/manifest.json` }] } }));
      await put(sessionsObjectKey(FRESH_BACKUP_ID, tenant.tenantId));
    }
    expect((await run()).found).toEqual([]);
  });

  it('stray lead workflows: found for a deleted lead and a missing tenant, terminated once approved with the fix id, and the undo is refused', async () => {
    const taskQueue = `integrity-no-worker-${randomUUID()}`;
    const goneTenant = randomUUID();
    const start = (tenantId: string, botId: string, waId: string, leadId?: string) => temporal.workflow.start(LEAD_CONVERSATION_WORKFLOW, {
      workflowId: leadWorkflowId(tenantId, botId, waId), taskQueue, args: [{ tenantId, botId, waId }],
      typedSearchAttributes: tenantSearchAttributes({ tenantId, botId, ...(leadId === undefined ? {} : { leadId }) }),
    });
    const ofLead = await start(tenant.tenantId, tenant.botId, tenant.waId, tenant.leadId);
    const ofGoneTenant = await start(goneTenant, randomUUID(), '5511000000002');
    // A conversation that has not ingested its first message yet: no lead to look for, its tenant and bot exist.
    const fresh = await start(tenant.tenantId, tenant.botId, '5511000000003');
    const listedRunning = async (count: number) => {
      for (const deadline = Date.now() + 20_000; ; await sleep(200)) {
        const running = [];
        for await (const execution of temporal.workflow.list({ query: `TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running'` })) running.push(execution.workflowId);
        if (running.length === count || Date.now() > deadline) return running.sort();
      }
    };
    try {
      expect(await listedRunning(3)).toHaveLength(3);
      expect((await run()).found.map(({ key }) => key)).toEqual([`workflow:${ofGoneTenant.workflowId}`]);

      const before = await asTenantOwner((tx) => tx.one(sql.type(z.object({ image: z.record(z.string(), z.unknown()) }))`
        SELECT to_jsonb(l) AS image FROM leads l WHERE id = ${tenant.leadId}`));
      await asTenantOwner((tx) => tx.query(sql.unsafe`DELETE FROM leads WHERE id = ${tenant.leadId}`));
      try {
        const { recorded, found } = await run();
        expect(found.map(({ check, key, tenantId, details }) => ({ check, key, tenantId, missing: details.missing }))).toEqual([
          { check: 'stray-lead-workflows', key: `workflow:${ofGoneTenant.workflowId}`, tenantId: goneTenant, missing: 'tenant' },
          { check: 'stray-lead-workflows', key: `workflow:${ofLead.workflowId}`, tenantId: tenant.tenantId, missing: 'lead' },
        ].sort((a, b) => a.key.localeCompare(b.key)));
        expect((await run(`tenant-${tenant.tenantId}`)).found.map(({ key }) => key)).toEqual([`workflow:${ofLead.workflowId}`]);

        const fix = recorded.fixes.find((planned) => planned.findingKey === `workflow:${ofLead.workflowId}`)!;
        expect(fix.class).toBe('approval');
        expect(await activities.integrityApplyFix({ fixId: fix.fixId, approvedBy: null })).toEqual({ fixId: fix.fixId, status: 'planned', failure: null });
        expect((await ofLead.describe()).status.name).toBe('RUNNING');

        expect(await activities.integrityApplyFix({ fixId: fix.fixId, approvedBy: 'ops' })).toEqual({ fixId: fix.fixId, status: 'applied', failure: null });
        expect((await ofLead.describe()).status.name).toBe('TERMINATED');
        const history = await ofLead.fetchHistory();
        const terminated = history.events!.find((event) => event.workflowExecutionTerminatedEventAttributes)!;
        expect(terminated.workflowExecutionTerminatedEventAttributes!.reason).toBe(`data-integrity fix ${fix.fixId}: its lead no longer exists`);
        expect(await fixLog(fix.fixId)).toEqual([{ operation: 'terminate-workflow', rowKey: ofLead.workflowId, tableName: null }]);

        // The fix waited for visibility: its re-check right away does not see the run any more.
        expect(await activities.integrityVerifyFixes({ scope: 'platform', fixIds: [fix.fixId] })).toEqual([{ fixId: fix.fixId, status: 'verified', failure: null }]);
        await expect(activities.integrityUndoFix({ fixId: fix.fixId, actor: 'test' })).rejects.toThrow(new FixNotUndoableError(
          `fix ${fix.fixId} terminated workflow ${ofLead.workflowId}; a terminated workflow cannot be resumed (the lead's next message starts a new one)`));
        expect(await undoThroughApi(fix.fixId)).toMatchObject({
          status: 409, json: { title: 'Not undoable', detail: expect.stringContaining(`fix ${fix.fixId} terminated workflow ${ofLead.workflowId}; a terminated workflow cannot be resumed`) },
        });
        expect(await db.pools.maintenance.oneFirst(sql.type(z.object({ status: z.string() }))`SELECT status FROM integrity_fixes WHERE id = ${fix.fixId}`)).toBe('verified');
      } finally {
        await asTenantOwner((tx) => tx.query(sql.unsafe`INSERT INTO leads SELECT * FROM jsonb_populate_record(NULL::leads, ${sql.jsonb(JSON.parse(JSON.stringify(before.image)))})`));
      }
    } finally {
      await Promise.all([ofLead, ofGoneTenant, fresh].map((handle) => handle.terminate('test over').catch(() => undefined)));
    }
  });
});
