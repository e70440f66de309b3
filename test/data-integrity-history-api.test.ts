// The data-integrity API beyond the seeds' paths, over HTTP on the real Temporal dev server, with a
// database of its own corrupted on purpose: run history with findings, fixes, their before-image log
// and undos; the alerts raised, open or not, paginated; and the tenant-scoped view, attacked from
// a tenant's side: another tenant's runs and findings are 404, platform-only routes are 403.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { pino } from 'pino';
import { sql } from 'slonik';
import { z } from 'zod';
import { createIntegrityAlertWebhookActivities } from '../activities/data-integrity/alert-webhook.ts';
import { createDataIntegrityActivities } from '../activities/data-integrity/index.ts';
import { createApp } from '../api/app.ts';
import { issueToken } from '../api/token-store.ts';
import { loadConfig } from '../core/config.ts';
import { createTokenAdminPool } from '../core/db/pools.ts';
import { createObjectStoreClient } from '../core/object-store.ts';
import { connectTemporalClient, connectTemporalWorker } from '../core/temporal/client.ts';
import { integrityAlertsWorkflowId, integrityApprovalsWorkflowId, integrityWorkflowId } from '../core/temporal/data-integrity.ts';
import type { dataIntegrityRun, deliverIntegrityAlerts } from '../workflows/data-integrity.ts';
import { createIntegrityDatabase, type IntegrityDatabase } from './support/integrity-database.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

const config = loadConfig();
const TASK_QUEUE = `integrity-history-test-${randomUUID().slice(0, 8)}`;
const s3 = createObjectStoreClient(config.s3);
let db: IntegrityDatabase;
let a: TenantGraph;
let b: TenantGraph;
let client: Client;
let worker: Worker;
let running: Promise<void>;
let closeWorkerConnection: () => Promise<void>;
let receiver: Server;
let api: ReturnType<typeof createApp>;
let base: string;
let tokenPool: Awaited<ReturnType<typeof createTokenAdminPool>>;
const tokens = { platform: '', a: '', b: '', platformId: '' };
let otherImage: string;
let otherPipeline: string;

type Statement = ReturnType<typeof sql.unsafe>;
const asTenantOwner = (tenantId: string, statements: Statement[]) => db.runAsTenantOwner(tenantId, statements);

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  receiver = createServer((request, response) => { request.resume(); request.on('end', () => response.writeHead(204).end()); });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  db = await createIntegrityDatabase(config);
  a = await seedTenant(db.withTenant);
  b = await seedTenant(db.withTenant);
  client = await connectTemporalClient(config.temporal);
  const workerConnection = await connectTemporalWorker(config.temporal);
  closeWorkerConnection = () => workerConnection.connection.close();
  worker = await Worker.create({
    ...workerConnection, taskQueue: TASK_QUEUE,
    workflowsPath: fileURLToPath(new URL('../workflows/index.ts', import.meta.url)),
    activities: {
      ...createDataIntegrityActivities({ maintenancePool: db.pools.maintenance }),
      ...createIntegrityAlertWebhookActivities({
        maintenancePool: db.pools.maintenance,
        webhook: { url: `http://127.0.0.1:${(receiver.address() as { port: number }).port}/`, secret: () => 'x'.repeat(32), timeoutMs: 5_000 },
      }),
    },
  });
  running = worker.run();
  for (const workflowId of [integrityWorkflowId('platform'), integrityWorkflowId(`tenant-${a.tenantId}`)]) {
    await client.workflow.getHandle(workflowId).terminate('a new test process starts').catch((error: unknown) => {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    });
  }
  tokenPool = await createTokenAdminPool(db.database);
  api = createApp({
    config: {
      ...config, database: db.database, temporal: { ...config.temporal, taskQueue: TASK_QUEUE }, integrity: { ...config.integrity, approvalTimeoutMs: 600_000 },
    },
    pools: db.pools, tokenPool, withTenant: db.withTenant, logger: pino({ level: 'silent' }), s3,
    temporalHealthy: async () => true, temporal: async () => client,
  });
  const server = await api.start(0, '127.0.0.1');
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}/api/v1/data-integrity`;
  const platform = (await issueToken(tokenPool, { tenantId: null, name: 'history-test', expiresAt: null, actor: 'test' }))!;
  tokens.platform = platform.token;
  tokens.platformId = platform.id;
  tokens.a = (await issueToken(tokenPool, { tenantId: a.tenantId, name: 'history-test', expiresAt: null, actor: 'test' }))!.token;
  tokens.b = (await issueToken(tokenPool, { tenantId: b.tenantId, name: 'history-test', expiresAt: null, actor: 'test' }))!.token;

  // Tenant A: a product showing another bot's image (warning, approval fix). Tenant B: a lead in a
  // stage of another pipeline (critical). The platform: the leads audit trigger off (critical, no tenant).
  otherImage = randomUUID();
  const otherBot = randomUUID();
  await asTenantOwner(a.tenantId, [
    sql.unsafe`INSERT INTO bots (id, tenant_id, name, phone_e164) VALUES (${otherBot}, ${a.tenantId}, 'Other bot', '+5511999990001')`,
    sql.unsafe`INSERT INTO bot_images (id, tenant_id, bot_id, object_key, content_type, size_bytes)
               VALUES (${otherImage}, ${a.tenantId}, ${otherBot}, ${`tenants/${a.tenantId}/images/${otherImage}.png`}, 'image/png', 10)`,
    sql.unsafe`UPDATE products SET image_id = ${otherImage} WHERE id = ${a.productId}`,
  ]);
  otherPipeline = randomUUID();
  await asTenantOwner(b.tenantId, [sql.unsafe`ALTER TABLE leads DROP CONSTRAINT leads_stage_fk`,
    sql.unsafe`INSERT INTO pipelines (id, tenant_id, name) VALUES (${otherPipeline}, ${b.tenantId}, 'Other')`,
    sql.unsafe`INSERT INTO pipeline_stages (tenant_id, pipeline_id, name, position) VALUES (${b.tenantId}, ${otherPipeline}, 'Elsewhere', 0)`,
    sql.unsafe`UPDATE leads SET stage_id = (SELECT id FROM pipeline_stages WHERE pipeline_id = ${otherPipeline}) WHERE id = ${b.leadId}`]);
  await db.owner.query(sql.unsafe`ALTER TABLE leads DISABLE TRIGGER leads_audit`);
}, 120_000);
afterAll(async () => {
  // The approval fixes the runs planned wait no longer than the test.
  for (const runId of await db.pools.maintenance.anyFirst(sql.type(z.object({ id: z.uuid() }))`SELECT id FROM integrity_runs`)) {
    await client.workflow.getHandle(integrityApprovalsWorkflowId(runId)).terminate('the test is over').catch(() => undefined);
  }
  await api?.stop();
  await tokenPool?.end();
  worker?.shutdown();
  await running;
  await closeWorkerConnection();
  await client.connection.close();
  await db.drop();
  s3.destroy();
  await new Promise((resolve) => receiver.close(resolve));
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const call = async (method: string, path: string, token: string, body?: unknown) => {
  const response = await fetch(`${base}${path}`, {
    method, headers: { authorization: `Bearer ${token}`, ...body === undefined ? {} : { 'content-type': 'application/json' } },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, type: response.headers.get('content-type'), json: await response.json() as Json };
};
/** Starts a run through the API and waits for it, and for the alerts it sent. */
const runThroughApi = async (path: string, token: string) => {
  const started = await call('POST', path, token);
  expect(started.status).toBe(202);
  const result = await client.workflow.getHandle<typeof dataIntegrityRun>(started.json.workflowId).result();
  await client.workflow.getHandle<typeof deliverIntegrityAlerts>(integrityAlertsWorkflowId(result.runId)).result().catch(() => undefined);
  return result;
};

describe('data-integrity run history and alerts (platform admins)', () => {
  let firstRunId: string;

  it('lists the run with its figures, and shows its findings, the fix with its before-image log, and its undo', async () => {
    const run = await runThroughApi('/run-checks', tokens.platform);
    firstRunId = run.runId;
    const page = await call('GET', '/runs?limit=5', tokens.platform);
    expect(page.status).toBe(200);
    expect(page.json.items[0]).toMatchObject({
      id: run.runId, scope: 'platform', workflowId: 'integrity/platform', findings: 3, bySeverity: { critical: 2, warning: 1, info: 0 },
      checks: expect.objectContaining({ 'triggers-disabled': expect.objectContaining({ findings: 1 }) }),
    });

    // The image fix only: the stage fix (B's) keeps waiting, so the approvals workflow does not end.
    const fixId = await db.pools.maintenance.oneFirst(sql.type(z.object({ id: z.uuid() }))`
      SELECT x.id FROM integrity_fixes x JOIN integrity_findings f ON f.id = x.finding_id
       WHERE f.run_id = ${run.runId} AND f.check_name = 'product-image-of-another-bot'`);
    expect((await call('POST', '/fix-issues', tokens.platform, { approve: [fixId] })).status).toBe(200);
    let status = '';
    for (const deadline = Date.now() + 30_000; status !== 'verified' && Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 200))) {
      status = await db.pools.maintenance.oneFirst(sql.type(z.object({ status: z.string() }))`SELECT status FROM integrity_fixes WHERE id = ${fixId}`);
    }
    expect(status).toBe('verified');
    expect((await call('POST', '/fix-issues', tokens.platform, { undo: [fixId] })).status).toBe(200);

    const detail = await call('GET', `/runs/${run.runId}`, tokens.platform);
    expect(detail.status).toBe(200);
    expect(detail.json.findings.map((finding: Json) => [finding.check, finding.tenantId])).toEqual([
      ['lead-stage-outside-pipeline', b.tenantId], ['product-image-of-another-bot', a.tenantId], ['triggers-disabled', null],
    ]);
    const [stage, image, trigger] = detail.json.findings as Json[];
    expect(image!.fix).toMatchObject({
      id: fixId, class: 'approval', status: 'undone', approvedBy: `api:${tokens.platformId}`, appliedAt: expect.any(String),
      log: [{ position: 0, table: 'products', keyColumn: 'id', rowKey: a.productId, operation: 'update', columns: ['image_id'],
        beforeImage: expect.objectContaining({ id: a.productId, tenant_id: a.tenantId, image_id: otherImage }) }],
      undo: { undoneAt: expect.any(String), undoneBy: `api:${tokens.platformId}` },
    });
    expect(image!.alert).toBeNull();
    expect(stage!.alert).toEqual({ raisedAt: expect.any(String), webhookDeliveredAt: expect.any(String) });
    expect(trigger).toMatchObject({ key: 'leads.leads_audit', fix: null, alert: { raisedAt: expect.any(String) } });
  }, 90_000);

  it('lists the alerts newest first, page by page, each with its finding and whether the latest run still finds it', async () => {
    await db.owner.query(sql.unsafe`ALTER TABLE leads ENABLE TRIGGER leads_audit`);
    await runThroughApi('/run-checks', tokens.platform);
    const first = await call('GET', '/alerts?limit=1', tokens.platform);
    expect(first.status).toBe(200);
    expect(first.json.items).toHaveLength(1);
    expect(first.json.nextCursor).toEqual(expect.any(String));
    const second = await call('GET', `/alerts?limit=1&cursor=${first.json.nextCursor}`, tokens.platform);
    expect(second.json.nextCursor).toBeNull();
    const alerts = [...first.json.items, ...second.json.items] as Json[];
    expect(alerts.map((alert) => alert.finding.check).sort()).toEqual(['lead-stage-outside-pipeline', 'triggers-disabled']);
    expect(Date.parse(alerts[0]!.raisedAt)).toBeGreaterThanOrEqual(Date.parse(alerts[1]!.raisedAt));
    const byCheck = Object.fromEntries(alerts.map((alert) => [alert.finding.check, alert]));
    // The trigger is on again: that alert is closed; the stage defect persists (and was not alerted twice).
    expect(byCheck['triggers-disabled']).toMatchObject({ runId: firstRunId, scope: 'platform', open: false, finding: { tenantId: null, severity: 'critical' } });
    expect(byCheck['lead-stage-outside-pipeline']).toMatchObject({
      runId: firstRunId, open: true, finding: { tenantId: b.tenantId, key: `lead:${b.leadId}` }, webhookDeliveredAt: expect.any(String),
    });
    expect((await call('GET', '/runs?scope=platform', tokens.platform)).json.items).toHaveLength(2);
    expect((await call('GET', `/runs?scope=tenant-${a.tenantId}`, tokens.platform)).json.items).toEqual([]);
  }, 90_000);

  it('answers an unknown run with 404 and bad input with a problem document', async () => {
    expect(await call('GET', `/runs/${randomUUID()}`, tokens.platform)).toMatchObject({ status: 404, type: expect.stringContaining('problem+json') });
    for (const path of ['/runs/not-a-uuid', '/runs?limit=0', '/runs?scope=everyone', '/alerts?cursor=abc', '/runs?extra=1']) {
      expect(await call('GET', path, tokens.platform)).toMatchObject({ status: 400, type: expect.stringContaining('problem+json') });
    }
  });
});

describe('data-integrity tenant view, from the tenant\'s side', () => {
  it('refuses tenant tokens on every platform-only route with 403', async () => {
    const runId = (await call('GET', '/runs', tokens.platform)).json.items[0].id as string;
    for (const [method, path] of [['GET', '/runs'], ['GET', `/runs/${runId}`], ['GET', '/alerts'], ['GET', '/status'], ['GET', '/report'],
      ['POST', '/run-checks'], ['GET', '/metrics'], ['GET', '/health']] as const) {
      expect([path, (await call(method, path, tokens.a)).status]).toEqual([path, 403]);
    }
  });

  it('shows a tenant only its own findings of the platform runs, never a platform-level one or another tenant\'s', async () => {
    const runs = await call('GET', `/tenants/${a.tenantId}/runs`, tokens.a);
    expect(runs.status).toBe(200);
    expect(runs.json.items).toHaveLength(2);
    expect(runs.json.items[1]).toEqual({
      id: expect.any(String), scope: 'platform', workflowId: 'integrity/platform', startedAt: expect.any(String),
      findings: 1, bySeverity: { critical: 0, warning: 1, info: 0 },
    });
    const detail = await call('GET', `/tenants/${a.tenantId}/runs/${runs.json.items[1].id}`, tokens.a);
    expect(detail.json.findings).toEqual([expect.objectContaining({ check: 'product-image-of-another-bot', tenantId: a.tenantId })]);
    expect(detail.json.checks).toBeUndefined();
    // Its own fix, with the before-image of its own row and the undo.
    expect(detail.json.findings[0].fix).toMatchObject({
      status: 'undone', log: [expect.objectContaining({ table: 'products', beforeImage: expect.objectContaining({ tenant_id: a.tenantId }) })],
    });

    const platformRun = await call('GET', `/runs/${runs.json.items[1].id}`, tokens.platform);
    const findingOf = (check: string) => (platformRun.json.findings as Json[]).find((finding) => finding.check === check)!.id as string;
    expect((await call('GET', `/tenants/${a.tenantId}/findings/${findingOf('product-image-of-another-bot')}`, tokens.a)).status).toBe(200);
    // B's finding and the platform-level one, asked for by A: not found, as if they did not exist.
    for (const check of ['lead-stage-outside-pipeline', 'triggers-disabled']) {
      expect(await call('GET', `/tenants/${a.tenantId}/findings/${findingOf(check)}`, tokens.a)).toMatchObject({ status: 404, json: { detail: 'no such integrity finding' } });
    }
    // B's own view, through A's token: the tenant itself is not found.
    for (const path of ['/status', '/report', '/runs', `/runs/${runs.json.items[1].id}`, `/findings/${findingOf('lead-stage-outside-pipeline')}`]) {
      expect([path, (await call('GET', `/tenants/${b.tenantId}${path}`, tokens.a)).status]).toEqual([path, 404]);
    }
    expect((await call('POST', `/tenants/${b.tenantId}/run-checks`, tokens.a)).status).toBe(404);
  });

  it('runs the checks of its own scope only, and keeps that run from other tenants', async () => {
    const run = await runThroughApi(`/tenants/${a.tenantId}/run-checks`, tokens.a);
    const report = await call('GET', `/tenants/${a.tenantId}/report`, tokens.a);
    expect(report.json).toMatchObject({ id: run.runId, scope: `tenant-${a.tenantId}`, findings: [expect.objectContaining({ check: 'product-image-of-another-bot' })] });
    expect((await call('GET', `/tenants/${a.tenantId}/status`, tokens.a)).json).toEqual({
      scope: `tenant-${a.tenantId}`, workflowId: `integrity/tenant-${a.tenantId}`, running: false,
      latestRun: { runId: run.runId, scope: `tenant-${a.tenantId}`, startedAt: expect.any(String), findings: 1, bySeverity: { critical: 0, warning: 1, info: 0 } },
      // Its approval fix waits, and so does the platform run's for the same defect (the first one was undone).
      awaitingApproval: 2,
    });
    // A's own run, asked for by B under B's own tenant: 404; B's report is a platform run with B's finding only.
    expect((await call('GET', `/tenants/${b.tenantId}/runs/${run.runId}`, tokens.b)).status).toBe(404);
    const reportB = await call('GET', `/tenants/${b.tenantId}/report`, tokens.b);
    expect(reportB.json).toMatchObject({ scope: 'platform', findings: [expect.objectContaining({ check: 'lead-stage-outside-pipeline', tenantId: b.tenantId })] });
    expect(reportB.json.findings).toHaveLength(1);
    // A platform admin sees it too, and may start a tenant's run; an unknown tenant is 404.
    expect((await call('GET', `/tenants/${a.tenantId}/runs/${run.runId}`, tokens.platform)).status).toBe(200);
    expect((await call('POST', `/tenants/${randomUUID()}/run-checks`, tokens.platform)).status).toBe(404);
  }, 90_000);
});
