// The integrity/<scope> workflow on the real Temporal dev server, with a worker in this process and
// a database of its own corrupted on purpose: auto fixes are applied and verified, an approval fix
// waits for its signal (and expires without it), and two runs of one scope never overlap. Then the
// platform admin's API over the same workflow: run, status, report, approve, undo.
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { WorkflowIdConflictPolicy, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { sql } from 'slonik';
import { z } from 'zod';
import { pino } from 'pino';
import { createApp } from '../api/app.ts';
import { issueToken } from '../api/token-store.ts';
import { INTEGRITY_CHECKS } from '../activities/data-integrity/checks/index.ts';
import { createDataIntegrityActivities } from '../activities/data-integrity/index.ts';
import type { IntegrityCheck } from '../core/data-integrity/check.ts';
import { loadConfig } from '../core/config.ts';
import { createTokenAdminPool } from '../core/db/pools.ts';
import { createObjectStoreClient } from '../core/object-store.ts';
import { connectTemporalClient, connectTemporalWorker } from '../core/temporal/client.ts';
import { APPROVE_FIXES_SIGNAL, integrityWorkflowId, type IntegrityWorkflowInput } from '../core/temporal/data-integrity.ts';
import type { awaitIntegrityApprovals, dataIntegrityRun, scheduledIntegrityRun } from '../workflows/data-integrity.ts';
import { createIntegrityDatabase, type IntegrityDatabase } from './support/integrity-database.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

const config = loadConfig();
const TASK_QUEUE = `integrity-test-${randomUUID().slice(0, 8)}`;
let db: IntegrityDatabase;
let tenant: TenantGraph;
let client: Client;
let worker: Worker;
let running: Promise<void>;
let closeWorkerConnection: () => Promise<void>;

/** A check that holds a run until the test opens it: two starts then meet one running run for sure. */
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

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  db = await createIntegrityDatabase(config);
  tenant = await seedTenant(db.withTenant);
  client = await connectTemporalClient(config.temporal);
  const workerConnection = await connectTemporalWorker(config.temporal);
  closeWorkerConnection = () => workerConnection.connection.close();
  worker = await Worker.create({
    ...workerConnection, taskQueue: TASK_QUEUE,
    workflowsPath: fileURLToPath(new URL('../workflows/index.ts', import.meta.url)),
    activities: createDataIntegrityActivities({ maintenancePool: db.pools.maintenance, checks: [...INTEGRITY_CHECKS, gate] }),
  });
  running = worker.run();
  // A platform run left by an earlier, interrupted test process would be joined instead of started.
  await client.workflow.getHandle(integrityWorkflowId('platform')).terminate('a new test process starts').catch((error: unknown) => {
    if (!(error instanceof WorkflowNotFoundError)) throw error;
  });
}, 120_000);
afterAll(async () => {
  worker?.shutdown();
  await running;
  await closeWorkerConnection();
  await client.connection.close();
  await db.drop();
});

type Statement = ReturnType<typeof sql.unsafe>;
const asOwner = (statements: Statement[]) => db.runAsTenantOwner(tenant.tenantId, statements);
const productImage = () => db.pools.maintenance.oneFirst(sql.type(z.object({ imageId: z.uuid().nullable() }))`
  SELECT image_id AS "imageId" FROM products WHERE id = ${tenant.productId}`);

/** A product of the tenant showing another bot's image: the defect whose fix needs approval. */
const plantForeignImage = async () => {
  const otherBot = randomUUID();
  const otherImage = randomUUID();
  await asOwner([
    sql.unsafe`INSERT INTO bots (id, tenant_id, name, phone_e164) VALUES (${otherBot}, ${tenant.tenantId}, 'Other bot', '+5511999990001')`,
    sql.unsafe`INSERT INTO bot_images (id, tenant_id, bot_id, object_key, content_type, size_bytes)
               VALUES (${otherImage}, ${tenant.tenantId}, ${otherBot}, ${`tenants/${tenant.tenantId}/images/${otherImage}.png`}, 'image/png', 10)`,
    sql.unsafe`UPDATE products SET image_id = ${otherImage} WHERE id = ${tenant.productId}`,
  ]);
  return {
    otherImage,
    repair: () => asOwner([sql.unsafe`UPDATE products SET image_id = ${tenant.imageId} WHERE id = ${tenant.productId}`, sql.unsafe`DELETE FROM bots WHERE id = ${otherBot}`]),
  };
};

/** A run per test: a scope of its own, so the tests' workflow ids never meet. */
const start = (input: IntegrityWorkflowInput) => client.workflow.start<typeof dataIntegrityRun>('dataIntegrityRun', {
  taskQueue: TASK_QUEUE, workflowId: integrityWorkflowId(input.scope), args: [input],
  workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING, workflowExecutionTimeout: '2 minutes',
});

/** Where the run's approval fixes wait, and their outcome once it ends. */
const approvals = (workflowId: string) => client.workflow.getHandle<typeof awaitIntegrityApprovals>(workflowId);

describe('integrity workflow', () => {
  it('applies an auto fix at once, verifies it, and finishes', async () => {
    const orphanLead = randomUUID();
    await asOwner([
      sql.unsafe`ALTER TABLE lead_messages DROP CONSTRAINT lead_messages_lead_fk`,
      sql.unsafe`INSERT INTO lead_messages (tenant_id, bot_id, lead_id, direction, wa_message_id, body)
                 VALUES (${tenant.tenantId}, ${tenant.botId}, ${orphanLead}, 'inbound', 'WAMID-ORPHAN', 'hello?')`,
      sql.unsafe`ALTER TABLE lead_messages ADD CONSTRAINT lead_messages_lead_fk FOREIGN KEY (tenant_id, bot_id, lead_id)
                 REFERENCES leads (tenant_id, bot_id, id) ON DELETE CASCADE NOT VALID`,
    ]);
    try {
      const result = await (await start({ scope: `tenant-${tenant.tenantId}`, approvalTimeoutMs: 60_000 })).result();
      expect(result).toEqual({
        runId: expect.any(String), findings: 1, fixes: [{ fixId: expect.any(String), status: 'verified', failure: null }], approvalsWorkflowId: null,
      });
      expect(await db.pools.maintenance.oneFirst(sql.type(z.object({ count: z.number() }))`
        SELECT count(*)::int AS count FROM lead_messages WHERE lead_id = ${orphanLead}`)).toBe(0);
    } finally {
      await asOwner([sql.unsafe`ALTER TABLE lead_messages VALIDATE CONSTRAINT lead_messages_lead_fk`]);
    }
  }, 60_000);

  it('never runs one scope twice at once: a second start joins the running run, the scheduled one is skipped', async () => {
    const open = closeGate();
    try {
      const handle = await start({ scope: 'platform', approvalTimeoutMs: 60_000 });
      const again = await start({ scope: 'platform', approvalTimeoutMs: 60_000 });
      expect(again.firstExecutionRunId).toBe(handle.firstExecutionRunId);
      const scheduled = await client.workflow.execute<typeof scheduledIntegrityRun>('scheduledIntegrityRun', {
        taskQueue: TASK_QUEUE, workflowId: `integrity-hourly-test-${randomUUID()}`, args: [{ scope: 'platform', approvalTimeoutMs: 60_000 }],
      });
      expect(scheduled).toEqual({ skipped: 'integrity/platform is already running' });
      open();
      expect(await handle.result()).toMatchObject({ findings: 0, fixes: [] });
    } finally {
      open();
    }
  }, 60_000);

  it('applies an approval fix only after its signal, in a workflow of its own that leaves the scope free', async () => {
    const defect = await plantForeignImage();
    try {
      const result = await (await start({ scope: `tenant-${tenant.tenantId}`, approvalTimeoutMs: 60_000 })).result();
      expect(result).toEqual({
        runId: expect.any(String), findings: 1, fixes: [{ fixId: expect.any(String), status: 'planned', failure: null }],
        approvalsWorkflowId: `integrity-approvals/${result.runId}`,
      });
      const { fixId } = result.fixes[0]!;
      // The scope is free again: the next run finds the defect, and plans no second fix while the first waits.
      const next = await (await start({ scope: `tenant-${tenant.tenantId}`, approvalTimeoutMs: 60_000 })).result();
      expect(next).toMatchObject({ findings: 1, fixes: [], approvalsWorkflowId: null });

      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(await productImage()).toBe(defect.otherImage);
      await approvals(result.approvalsWorkflowId!).signal(APPROVE_FIXES_SIGNAL, { fixIds: [fixId], approvedBy: 'admin@test' });
      expect(await approvals(result.approvalsWorkflowId!).result()).toEqual([{ fixId, status: 'verified', failure: null }]);
      expect(await productImage()).toBeNull();
    } finally {
      await defect.repair();
    }
  }, 60_000);

  it('expires an approval fix that gets no signal in time, unapplied', async () => {
    const defect = await plantForeignImage();
    try {
      const result = await (await start({ scope: `tenant-${tenant.tenantId}`, approvalTimeoutMs: 1_500 })).result();
      const outcomes = await approvals(result.approvalsWorkflowId!).result();
      expect(outcomes).toEqual([{ fixId: result.fixes[0]!.fixId, status: 'expired', failure: null }]);
      expect(await productImage()).toBe(defect.otherImage);
      // A late approval finds the fix expired: still never applied.
      expect(await createDataIntegrityActivities({ maintenancePool: db.pools.maintenance })
        .integrityApplyFix({ fixId: result.fixes[0]!.fixId, approvedBy: 'late' })).toMatchObject({ status: 'expired' });
      expect(await productImage()).toBe(defect.otherImage);
    } finally {
      await defect.repair();
    }
  }, 60_000);
});

describe('data-integrity API', () => {
  let api: ReturnType<typeof createApp>;
  let base: string;
  let platformToken: string;
  let tenantToken: string;
  let tokenPool: Awaited<ReturnType<typeof createTokenAdminPool>>;
  const s3 = createObjectStoreClient(config.s3);

  beforeAll(async () => {
    tokenPool = await createTokenAdminPool(db.database);
    const apiConfig = { ...config, database: db.database, temporal: { ...config.temporal, taskQueue: TASK_QUEUE } };
    api = createApp({
      config: apiConfig, pools: db.pools, tokenPool, withTenant: db.withTenant, logger: pino({ level: 'silent' }), s3,
      temporalHealthy: async () => true, temporal: async () => client,
    });
    const server = await api.start(0, '127.0.0.1');
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    platformToken = (await issueToken(tokenPool, { tenantId: null, name: 'integrity-test', expiresAt: null, actor: 'test' }))!.token;
    tenantToken = (await issueToken(tokenPool, { tenantId: tenant.tenantId, name: 'integrity-test', expiresAt: null, actor: 'test' }))!.token;
  });
  afterAll(async () => {
    await api.stop();
    await tokenPool.end();
    s3.destroy();
  });

  type Reply = Record<string, unknown> & { runId?: string; findings: { check: string; fix: { id: string } | null }[] };
  const call = async (method: string, path: string, body?: unknown, token = platformToken) => {
    const response = await fetch(`${base}/api/v1/data-integrity${path}`, {
      method, headers: { authorization: `Bearer ${token}`, ...body === undefined ? {} : { 'content-type': 'application/json' } },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, json: await response.json() as Reply };
  };

  it('refuses tenant tokens on every route', async () => {
    for (const [method, path, body] of [['GET', '/status'], ['GET', '/report'], ['POST', '/run-checks'], ['POST', '/fix-issues', { undo: [randomUUID()] }]] as const) {
      expect((await call(method, path, body, tenantToken)).status).toBe(403);
    }
  });

  it('runs the checks once however often asked, reports the finding, applies its fix on approval, and undoes it', async () => {
    const defect = await plantForeignImage();
    try {
      const previousRunId = (await call('GET', '/report')).json.runId;
      const open = closeGate();
      const started = await call('POST', '/run-checks');
      expect(started).toEqual({ status: 202, json: { workflowId: 'integrity/platform', runId: expect.any(String), alreadyStarted: false } });
      const again = await call('POST', '/run-checks');
      expect(again.json).toEqual({ ...started.json, alreadyStarted: true });
      open();
      const run = await client.workflow.getHandle<typeof dataIntegrityRun>('integrity/platform').result();
      // The run recorded its findings when the report names a new run (the earlier tests' runs are older).
      let fixId = '';
      for (;;) {
        const report = await call('GET', '/report');
        if (report.status === 200 && report.json.runId !== previousRunId && report.json.findings.length > 0) {
          fixId = report.json.findings[0]!.fix!.id;
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }

      const state = await call('GET', '/status');
      expect(state.json).toMatchObject({ workflowId: 'integrity/platform', running: false, latestRun: { findings: 1, bySeverity: { warning: 1 }, awaitingApproval: 1 } });
      expect((await call('GET', '/report')).json.findings).toEqual([expect.objectContaining({
        check: 'product-image-of-another-bot', severity: 'warning', key: `product:${tenant.productId}`, tenantId: tenant.tenantId,
        fix: expect.objectContaining({ id: fixId, class: 'approval', status: 'planned' }),
      })]);

      expect(await call('POST', '/fix-issues', { approve: [fixId] })).toEqual({ status: 200, json: { approved: [fixId] } });
      await approvals(run.approvalsWorkflowId!).result();
      expect((await call('GET', '/report')).json.findings[0]!.fix).toMatchObject({ status: 'verified', approvedBy: expect.stringMatching(/^api:/) });
      expect(await productImage()).toBeNull();
      // Verified: nothing left to approve.
      expect((await call('POST', '/fix-issues', { approve: [fixId] })).status).toBe(409);

      expect(await call('POST', '/fix-issues', { undo: [fixId] })).toEqual({ status: 200, json: { undone: [fixId] } });
      expect(await productImage()).toBe(defect.otherImage);
      const twice = await call('POST', '/fix-issues', { undo: [fixId] });
      expect(twice).toMatchObject({ status: 409, json: { detail: expect.stringContaining('already undone') } });
    } finally {
      await defect.repair();
    }
  }, 60_000);

  it('answers unknown fixes with 404 and bad input with a problem document', async () => {
    const unknown = randomUUID();
    expect(await call('POST', '/fix-issues', { undo: [unknown] })).toMatchObject({ status: 404, json: { detail: `no such fix: ${unknown}` } });
    expect((await call('POST', '/fix-issues', { approve: ['not-a-uuid'] })).status).toBe(400);
    expect((await call('POST', '/fix-issues', { approve: [], undo: [unknown] })).status).toBe(400);
  });
});
