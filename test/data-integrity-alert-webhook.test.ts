// The alert webhook: each new critical finding of a run is POSTed, signed like owner webhooks, to
// the configured receiver (a real HTTP server here) by `integrity-alerts/<runId>` on the real
// Temporal dev server; a receiver that fails once gets the alert again after a backoff, and
// accepts it once per finding. A persisting finding is not sent again by the next run.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { WorkflowIdConflictPolicy, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { sql } from 'slonik';
import { z } from 'zod';
import { alertWebhookTarget, createIntegrityAlertWebhookActivities } from '../activities/data-integrity/alert-webhook.ts';
import { createDataIntegrityActivities } from '../activities/data-integrity/index.ts';
import { loadConfig } from '../core/config.ts';
import { loadKeyring } from '../core/crypto/keyring.ts';
import { verifyWebhook } from '../core/owner-notification/webhook-signature.ts';
import { connectTemporalClient, connectTemporalWorker } from '../core/temporal/client.ts';
import { integrityAlertsWorkflowId, integrityWorkflowId } from '../core/temporal/data-integrity.ts';
import type { dataIntegrityRun, deliverIntegrityAlerts } from '../workflows/data-integrity.ts';
import { createIntegrityDatabase, type IntegrityDatabase } from './support/integrity-database.ts';

const config = loadConfig();
const TASK_QUEUE = `integrity-alert-webhook-test-${randomUUID().slice(0, 8)}`;
const SECRET = `whsec-test-${randomUUID()}`;
let db: IntegrityDatabase;
let client: Client;
let worker: Worker;
let running: Promise<void>;
let closeWorkerConnection: () => Promise<void>;

type Received = { headers: IncomingHttpHeaders; body: string; answered: number };
const received: Received[] = [];
let receiver: Server;
let receiverUrl: string;

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  // Fails the first POST of each alert (by its webhook-id) with 503, accepts every later one.
  receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => { body += chunk.toString(); });
    request.on('end', () => {
      const id = request.headers['webhook-id'];
      const answered = received.some((earlier) => earlier.headers['webhook-id'] === id) ? 204 : 503;
      received.push({ headers: request.headers, body, answered });
      response.writeHead(answered).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/integrity-alerts`;

  db = await createIntegrityDatabase(config);
  client = await connectTemporalClient(config.temporal);
  const workerConnection = await connectTemporalWorker(config.temporal);
  closeWorkerConnection = () => workerConnection.connection.close();
  worker = await Worker.create({
    ...workerConnection, taskQueue: TASK_QUEUE,
    workflowsPath: fileURLToPath(new URL('../workflows/index.ts', import.meta.url)),
    activities: {
      ...createDataIntegrityActivities({ maintenancePool: db.pools.maintenance }),
      ...createIntegrityAlertWebhookActivities({ maintenancePool: db.pools.maintenance, webhook: { url: receiverUrl, secret: () => SECRET, timeoutMs: 5_000 } }),
    },
  });
  running = worker.run();
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
  await new Promise((resolve) => receiver.close(resolve));
});

const platformRun = async () => (await client.workflow.start<typeof dataIntegrityRun>('dataIntegrityRun', {
  taskQueue: TASK_QUEUE, workflowId: integrityWorkflowId('platform'), args: [{ scope: 'platform', approvalTimeoutMs: 60_000 }],
  workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING, workflowExecutionTimeout: '2 minutes',
})).result();
const criticalFindings = (runId: string) => db.pools.maintenance.anyFirst(sql.type(z.object({ id: z.uuid() }))`
  SELECT id FROM integrity_findings WHERE run_id = ${runId} AND severity = 'critical' ORDER BY check_name, finding_key`);

describe('integrity alert webhook', () => {
  it('delivers each new critical finding once, signed, after the receiver failed it once; a persisting one is not sent again', async () => {
    await db.owner.query(sql.unsafe`ALTER TABLE leads DISABLE TRIGGER leads_audit`);
    await db.owner.query(sql.unsafe`ALTER TABLE products DISABLE TRIGGER products_audit`);
    try {
      const first = await platformRun();
      const findingIds = [...await criticalFindings(first.runId)];
      expect(findingIds).toHaveLength(2);
      const alerts = await client.workflow.getHandle<typeof deliverIntegrityAlerts>(integrityAlertsWorkflowId(first.runId)).result();
      expect(alerts.failed).toEqual([]);
      expect([...alerts.delivered].sort((a, b) => a.findingId.localeCompare(b.findingId)))
        .toEqual([...findingIds].sort().map((findingId) => ({ findingId, outcome: 'delivered', status: 204 })));

      // Two POSTs per finding: the refused one, then the accepted one, both with the finding id as webhook-id.
      expect(received.map((request) => request.headers['webhook-id']).sort()).toEqual([...findingIds, ...findingIds].sort());
      const accepted = received.filter((request) => request.answered === 204);
      expect(accepted.map((request) => request.headers['webhook-id']).sort()).toEqual([...findingIds].sort());
      for (const request of accepted) {
        const headers = request.headers as Record<string, string>;
        expect(verifyWebhook(SECRET, headers, request.body, new Date())).toBe(true);
        expect(verifyWebhook('another-secret-of-24-chars!', headers, request.body, new Date())).toBe(false);
        expect(JSON.parse(request.body)).toEqual({
          id: headers['webhook-id'], type: 'integrity.critical_finding', createdAt: expect.stringMatching(/Z$/),
          data: expect.objectContaining({ runId: first.runId, scope: 'platform', findingId: headers['webhook-id'], check: 'triggers-disabled', affectedTenantId: null }),
        });
      }
      expect(accepted.map((request) => JSON.parse(request.body).data.key).sort()).toEqual(['leads.leads_audit', 'products.products_audit']);

      // The defects persist: the next run alerts nothing, so nothing more is posted.
      const second = await platformRun();
      expect(second.findings).toBe(first.findings);
      await expect(client.workflow.getHandle(integrityAlertsWorkflowId(second.runId)).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
      // A retried delivery of an accepted alert posts nothing again.
      const retried = await createIntegrityAlertWebhookActivities({
        maintenancePool: db.pools.maintenance, webhook: { url: receiverUrl, secret: () => SECRET, timeoutMs: 5_000 },
      }).integrityDeliverAlert({ findingId: findingIds[0]! });
      expect(retried).toEqual({ findingId: findingIds[0], outcome: 'already-delivered', status: 204 });
      expect(received).toHaveLength(4);
    } finally {
      await db.owner.query(sql.unsafe`ALTER TABLE leads ENABLE TRIGGER leads_audit`);
      await db.owner.query(sql.unsafe`ALTER TABLE products ENABLE TRIGGER products_audit`);
    }
  }, 90_000);

  it('takes the secret from the config, or as the base64 text of a keyring key named by id', () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    const keyring = () => loadKeyring({ keys: `alerts:${key},other:${Buffer.alloc(32, 1).toString('base64')}`, keysFile: '/nonexistent', activeKeyId: 'other' });
    expect(alertWebhookTarget({ url: receiverUrl, secret: null, secretKeyId: 'alerts' }, keyring)?.secret()).toBe(key);
    expect(alertWebhookTarget({ url: receiverUrl, secret: SECRET, secretKeyId: null }, keyring)?.secret()).toBe(SECRET);
    expect(alertWebhookTarget(null, keyring)).toBeNull();
  });
});
