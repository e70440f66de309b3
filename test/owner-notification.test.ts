// Owner notifications through the real worker, Temporal and Postgres: a lead crossing its bot's
// threshold (by a message or by a threshold change) is notified once, with a signed webhook that
// Temporal retries until the owner's endpoint accepts it.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Client, WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { sql } from 'slonik';
import { z } from 'zod';
import { assertPublicTarget } from '../core/owner-notification/webhook-target.ts';
import { loadConfig } from '../core/config.ts';
import { createDatabasePools, type DatabasePools } from '../core/db/pools.ts';
import { createWithTenant, type WithTenant } from '../core/db/with-tenant.ts';
import { connectTemporalClient } from '../core/temporal/client.ts';
import { INBOUND_SIGNAL, LEAD_CONVERSATION_WORKFLOW, leadWorkflowId, type InboundMessage } from '../core/temporal/lead-conversation.ts';
import { ownerNotificationWorkflowId } from '../core/temporal/owner-notification.ts';
import { TENANT_ID } from '../core/temporal/search-attributes.ts';
import { signWebhook, verifyWebhook } from '../core/owner-notification/webhook-signature.ts';
import type * as workflows from '../workflows/index.ts';
import { saveHistories } from './support/histories.ts';
import { startBotPod } from './support/bot-pod.ts';
import { startHttpRecorder } from './support/http-recorder.ts';
import { processGroup } from './support/processes.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

const config = loadConfig();
const processes = processGroup();
const secret = randomBytes(32).toString('hex');
let pools: DatabasePools;
let withTenant: WithTenant;
let client: Client;
let receiver: Awaited<ReturnType<typeof startHttpRecorder>>;
let tenant: TenantGraph;

beforeAll(async () => {
  pools = await createDatabasePools(config.database);
  withTenant = createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 });
  client = await connectTemporalClient(config.temporal);
  receiver = await startHttpRecorder((_request, response) => response.writeHead(204).end());
  tenant = await seedTenant(withTenant);
  await withTenant(tenant.tenantId, (tx) => tx.query(sql.unsafe`
    INSERT INTO owner_webhooks (tenant_id, url, secret) VALUES (${tenant.tenantId}, ${`${receiver.url}/hooks/leads`}, ${secret})`));
  await processes.start(['worker/main.ts']);
  await startBotPod(processes, tenant.tenantId);
}, 60_000);

afterAll(async () => {
  await processes.stopAll();
  await receiver.close();
  await client.connection.close();
  await pools.end();
});

const webhookEvents = () => receiver.requests.map((request) => {
  expect(verifyWebhook(secret, request.headers as Record<string, string>, request.body, new Date())).toBe(true);
  return JSON.parse(request.body) as { id: string; type: string; leadId: string; data: { score: number } };
});

const waitFor = async <T>(probe: () => Promise<T> | T, done: (value: T) => boolean, timeoutMs: number): Promise<T> => {
  let value = await probe();
  for (const deadline = Date.now() + timeoutMs; !done(value) && Date.now() < deadline; value = await probe()) await sleep(200);
  return value;
};

const insertLead = (waId: string, score: number) => withTenant(tenant.tenantId, (tx) => tx.oneFirst(sql.type(z.object({ id: z.uuid() }))`
  INSERT INTO leads (tenant_id, bot_id, wa_id, score) VALUES (${tenant.tenantId}, ${tenant.botId}, ${waId}, ${score}) RETURNING id`));

const qualificationOf = (leadId: string) => withTenant(tenant.tenantId, (tx) => tx.one(sql.type(z.object({
  is_qualified: z.boolean(), events: z.number(), stage: z.string().nullable(),
}))`
  SELECT l.is_qualified, (SELECT count(*)::int FROM lead_events e WHERE e.lead_id = l.id AND e.kind = 'lead.qualified') AS events,
         (SELECT s.name FROM pipeline_stages s WHERE s.id = l.stage_id) AS stage
  FROM leads l WHERE l.id = ${leadId}`));

const changeThreshold = (threshold: number, workflowId: string) => client.workflow.execute<typeof workflows.changeQualificationThreshold>('changeQualificationThreshold', {
  workflowId, taskQueue: config.temporal.taskQueue, args: [{ tenantId: tenant.tenantId, botId: tenant.botId, threshold, actor: 'test' }],
});

describe('owner notification', () => {
  it('notifies once, with a signed webhook, when messages take a lead across the threshold', async () => {
    const waId = '5511944443333';
    const messages: InboundMessage[] = Array.from({ length: 10 }, (_, i) => ({
      tenantId: tenant.tenantId, botId: tenant.botId, waId, waMessageId: `${waId}-${i}`, text: 'what is the price?', receivedAt: new Date().toISOString(),
    }));
    for (const message of messages) {
      await client.workflow.signalWithStart<typeof workflows.leadConversation, [InboundMessage]>(LEAD_CONVERSATION_WORKFLOW, {
        workflowId: leadWorkflowId(tenant.tenantId, tenant.botId, waId), taskQueue: config.temporal.taskQueue,
        args: [{ tenantId: tenant.tenantId, botId: tenant.botId, waId }], signal: INBOUND_SIGNAL, signalArgs: [message],
      });
    }
    const events = await waitFor(webhookEvents, (list) => list.length >= 1, 60_000);
    await sleep(1_500); // a second notification would arrive now
    expect(webhookEvents()).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'lead.qualified', data: { score: 70 } });
    expect(receiver.requests[0]).toMatchObject({ method: 'POST', path: '/hooks/leads' });
    expect(await qualificationOf(events[0]!.leadId)).toEqual({ is_qualified: true, events: 1, stage: 'Qualified' });
    // The qualifying message's reply beside the notification's start, replayed by test/replay.test.ts.
    await saveHistories(config, client, leadWorkflowId(tenant.tenantId, tenant.botId, waId), 'lead-conversation-qualified');
  }, 90_000);

  it('re-qualifies every lead of the bot on a threshold change, notifying each lead that crosses it once', async () => {
    receiver.requests.length = 0;
    const low = await insertLead('5511900000001', 30);
    const middle = await insertLead('5511900000002', 50);
    const first = await changeThreshold(40, `threshold-test-${tenant.tenantId}-1`);
    expect(first).toMatchObject({ previousThreshold: 70, notifiedEvents: 1 });
    expect(await qualificationOf(low)).toEqual({ is_qualified: false, events: 0, stage: null });
    expect(await qualificationOf(middle)).toEqual({ is_qualified: true, events: 1, stage: 'Qualified' });

    // Still above the new threshold: no new crossing, no new notification.
    expect(await changeThreshold(45, `threshold-test-${tenant.tenantId}-2`)).toMatchObject({ notifiedEvents: 0 });
    const events = await waitFor(webhookEvents, (list) => list.length >= 1, 30_000);
    await sleep(1_500);
    expect(webhookEvents()).toHaveLength(1);
    expect(events[0]!.leadId).toBe(middle);

    // Raised above the lead's score: it is no longer qualified (and keeps its stage history).
    await changeThreshold(60, `threshold-test-${tenant.tenantId}-3`);
    expect((await qualificationOf(middle)).is_qualified).toBe(false);
    await saveHistories(config, client, `threshold-test-${tenant.tenantId}-1`, 'change-qualification-threshold');
  }, 90_000);

  it('starts no notification for a tenant without an active webhook, while its lead still qualifies', async () => {
    const quiet = await seedTenant(withTenant);
    const leadId = await withTenant(quiet.tenantId, (tx) => tx.oneFirst(sql.type(z.object({ id: z.uuid() }))`
      INSERT INTO leads (tenant_id, bot_id, wa_id, score) VALUES (${quiet.tenantId}, ${quiet.botId}, '5511900000009', 50) RETURNING id`));
    const change = await client.workflow.execute<typeof workflows.changeQualificationThreshold>('changeQualificationThreshold', {
      workflowId: `threshold-test-${quiet.tenantId}`, taskQueue: config.temporal.taskQueue,
      args: [{ tenantId: quiet.tenantId, botId: quiet.botId, threshold: 40, actor: 'test' }],
    });
    expect(change).toMatchObject({ previousThreshold: 70, qualifiedLeads: 1, notifiedEvents: 0 });
    const eventId = await withTenant(quiet.tenantId, (tx) => tx.oneFirst(sql.type(z.object({ id: z.uuid() }))`
      SELECT id FROM lead_events WHERE lead_id = ${leadId} AND kind = 'lead.qualified'`));
    await expect(client.workflow.getHandle(ownerNotificationWorkflowId(quiet.tenantId, eventId)).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  }, 30_000);

  it('refuses an invalid threshold with a readable reason and changes nothing', async () => {
    const failure = changeThreshold(5000, `threshold-test-${tenant.tenantId}-invalid`);
    await expect(failure).rejects.toBeInstanceOf(WorkflowFailedError);
    await expect(failure).rejects.toMatchObject({ cause: { message: 'threshold must be an integer from 0 to 1000, got 5000' } });
  }, 30_000);

  it('retries a failing endpoint until it accepts, with the same event id every time', async () => {
    receiver.requests.length = 0;
    let answered = 0;
    receiver.respondWith((_request, response) => { answered += 1; response.writeHead(answered <= 2 ? 503 : 200).end(); });
    // Threshold 60 so far; only this lead (55) crosses 52.
    const lead = await insertLead('5511900000003', 55);
    await changeThreshold(52, `threshold-test-${tenant.tenantId}-4`);
    const requests = await waitFor(() => receiver.requests, (list) => list.length >= 3, 30_000);
    expect(requests).toHaveLength(3);
    expect(new Set(requests.map((request) => request.headers['webhook-id'])).size).toBe(1);
    const notification = client.workflow.getHandle(`owner-notification/${tenant.tenantId}/${webhookEvents()[0]!.id}`);
    const result = await notification.result();
    expect(result).toMatchObject({ delivered: [{ status: 200 }], failed: [] });
    // A child started by a workflow carries its tenant too (children inherit no search attributes).
    expect((await notification.describe()).typedSearchAttributes.get(TENANT_ID)).toBe(tenant.tenantId);
    expect(webhookEvents()[0]!.leadId).toBe(lead);
    await saveHistories(config, client, `owner-notification/${tenant.tenantId}/${webhookEvents()[0]!.id}`, 'owner-notification-retried');
  }, 60_000);

  it('gives up at once on an endpoint that refuses the event, with the reason', async () => {
    receiver.requests.length = 0;
    receiver.respondWith((_request, response) => response.writeHead(400).end());
    await insertLead('5511900000004', 51);
    await changeThreshold(51, `threshold-test-${tenant.tenantId}-5`);
    await waitFor(() => receiver.requests, (list) => list.length >= 1, 30_000);
    const eventId = webhookEvents()[0]!.id;
    const result = await client.workflow.getHandle(`owner-notification/${tenant.tenantId}/${eventId}`).result();
    expect(result.failed).toEqual([{ webhookId: expect.any(String), reason: expect.stringMatching(/answered 400 to event/) }]);
    expect(receiver.requests).toHaveLength(1);
  }, 60_000);
});

describe('webhook targets', () => {
  it('refuse private, loopback, link-local and metadata addresses, and names that resolve to them', async () => {
    for (const url of ['http://127.0.0.1/x', 'http://10.1.2.3/x', 'http://169.254.169.254/latest/meta-data', 'http://[::1]/x',
      'http://[fd00::1]/x', 'http://192.168.0.10/x', 'http://localhost:8080/x', 'http://[::ffff:127.0.0.1]/x']) {
      await expect(assertPublicTarget(new URL(url))).rejects.toThrow(/non-public address/);
    }
    await expect(assertPublicTarget(new URL('https://93.184.215.14/hook'))).resolves.toBeUndefined();
  });

  it('verify only the exact body, secret and a fresh timestamp', () => {
    const now = new Date();
    const sign = (body: string, key: string) => signWebhook(key, 'evt', body, now);
    expect(verifyWebhook(secret, sign('{"a":1}', secret), '{"a":1}', now)).toBe(true);
    expect(verifyWebhook(secret, sign('{"a":1}', secret), '{"a":2}', now)).toBe(false);
    expect(verifyWebhook(secret, sign('{"a":1}', 'another secret of enough length'), '{"a":1}', now)).toBe(false);
    expect(verifyWebhook(secret, sign('{"a":1}', secret), '{"a":1}', new Date(now.getTime() + 10 * 60_000))).toBe(false);
  });
});
