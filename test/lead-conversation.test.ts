// The lead conversation through real processes: the platform worker, the bot pod (simulator) on the
// tenant's task queue, Temporal and Postgres.
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ChildProcess } from 'node:child_process';
import type { Client } from '@temporalio/client';
import { sql } from 'slonik';
import { z } from 'zod';
import { loadConfig } from '../core/config.ts';
import { createDatabasePools, type DatabasePools } from '../core/db/pools.ts';
import { createWithTenant, type WithTenant } from '../core/db/with-tenant.ts';
import { connectTemporalClient } from '../core/temporal/client.ts';
import {
  INBOUND_SIGNAL, LEAD_CONVERSATION_WORKFLOW, leadWorkflowId, type InboundMessage, type LeadConversationInput,
} from '../core/temporal/lead-conversation.ts';
import { BOT_ID, LEAD_ID, TENANT_ID } from '../core/temporal/search-attributes.ts';
import type * as workflows from '../workflows/index.ts';
import { messageIdFor } from '../bot-pods/sent-log.ts';
import { startBotPod, type BotPodHandle } from './support/bot-pod.ts';
import { saveHistories } from './support/histories.ts';
import { processGroup } from './support/processes.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

const config = loadConfig();
let pools: DatabasePools;
let withTenant: WithTenant;
let tenant: TenantGraph;
const processes = processGroup();
let client: Client;

beforeAll(async () => {
  pools = await createDatabasePools(config.database);
  withTenant = createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 });
  tenant = await seedTenant(withTenant);
  client = await connectTemporalClient(config.temporal);
  await withTenant(tenant.tenantId, (tx) => tx.query(sql.unsafe`
    INSERT INTO scoring_rules (tenant_id, bot_id, kind, pattern, weight, tag) VALUES
      (${tenant.tenantId}, ${tenant.botId}, 'keyword', 'preço', 3, 'pricing'),
      (${tenant.tenantId}, ${tenant.botId}, 'regex', '\\d+ usuários', 2, 'size')`));
});
afterAll(async () => {
  await processes.stopAll();
  await client.connection.close();
  await pools.end();
});

const counts = (leadWaId: string) => withTenant(tenant.tenantId, (tx) => tx.one(sql.type(z.object({
  inbound: z.number(), outbound: z.number(), score: z.number().nullable(),
}))`
  SELECT count(*) FILTER (WHERE m.direction = 'inbound')::int AS inbound,
         count(*) FILTER (WHERE m.direction = 'outbound')::int AS outbound,
         max(l.score) AS score
  FROM leads l LEFT JOIN lead_messages m ON m.tenant_id = l.tenant_id AND m.lead_id = l.id
  WHERE l.bot_id = ${tenant.botId} AND l.wa_id = ${leadWaId}`));

const messagesFor = (waId: string, count: number): InboundMessage[] => Array.from({ length: count }, (_, i) => ({
  tenantId: tenant.tenantId, botId: tenant.botId, waId, waMessageId: `${waId}-IN-${i}`,
  receivedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
  text: [`mensagem ${i}`, i % 2 === 0 ? 'qual o preço?' : '', i % 3 === 0 ? `somos ${i} usuários` : '',
    i === 1 ? 'meu nome é Carla Dias, e-mail Carla@Empresa.com' : ''].join(' '),
}));
const expectedScoreOf = (count: number) =>
  Array.from({ length: count }, (_, i) => (i % 2 === 0 ? 3 : 0) + (i % 3 === 0 ? 2 : 0)).reduce((a, b) => a + b, 0);

const signalOne = (through: Client, message: InboundMessage, idleTimeoutSeconds?: number) => through.workflow.signalWithStart<typeof workflows.leadConversation, [InboundMessage]>(LEAD_CONVERSATION_WORKFLOW, {
  workflowId: leadWorkflowId(message.tenantId, message.botId, message.waId),
  taskQueue: config.temporal.taskQueue,
  args: [{ tenantId: message.tenantId, botId: message.botId, waId: message.waId, idleTimeoutSeconds } satisfies LeadConversationInput],
  signal: INBOUND_SIGNAL,
  signalArgs: [message],
});

/** Delivers concurrently from several clients (connections), like several bot pod replicas would. */
const deliver = async (deliveries: InboundMessage[], clientCount: number) => {
  const clients = await Promise.all(Array.from({ length: clientCount }, () => connectTemporalClient(config.temporal)));
  await Promise.all(deliveries.map((message, i) => signalOne(clients[i % clients.length]!, message)));
  await Promise.all(clients.map((each) => each.connection.close()));
};

const runsOf = async (workflowId: string) => {
  const runs: string[] = [];
  for await (const run of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push(run.status.name);
  return runs.sort();
};

const waitForOutbound = async (waId: string, atLeast: number, timeoutMs: number) => {
  let current = await counts(waId);
  for (const deadline = Date.now() + timeoutMs; current.outbound < atLeast && Date.now() < deadline; ) {
    await sleep(250);
    current = await counts(waId);
  }
  return current;
};

/** What the bot pod sent to this lead on the simulated network, in order. */
const sendsIn = (waId: string) => pod.sends(tenant.botId).filter((send) => send.jid === `${waId}@s.whatsapp.net`);

let pod: BotPodHandle;
let worker: ChildProcess;

describe('lead conversation', () => {
  it('processes 200 concurrent messages (20 delivered twice) exactly once each, scored and answered once', async () => {
    // The worker first: the pod asks the platform which bots to run.
    worker = await processes.start(['worker/main.ts']);
    pod = await startBotPod(processes, tenant.tenantId);

    const waId = '5511988887777';
    const messages = messagesFor(waId, 200);
    await deliver([...messages, ...messages.slice(0, 20)], 4);

    await waitForOutbound(waId, 200, 150_000);
    await sleep(1_000); // anything extra (a double send) would land now
    expect(await counts(waId)).toEqual({ inbound: 200, outbound: 200, score: expectedScoreOf(200) });
    const sends = sendsIn(waId);
    expect(sends).toHaveLength(200);
    expect(new Set(sends.map((send) => send.waMessageId)).size).toBe(200);

    // Crossing the threshold once: one owner event, one move to the qualified stage.
    const qualification = await withTenant(tenant.tenantId, (tx) => tx.one(sql.type(z.object({
      events: z.number(), stage: z.string().nullable(), moves: z.number(),
    }))`
      SELECT (SELECT count(*)::int FROM lead_events e WHERE e.lead_id = l.id AND e.kind = 'lead.qualified') AS events,
             (SELECT s.name FROM pipeline_stages s WHERE s.id = l.stage_id) AS stage,
             (SELECT count(*)::int FROM lead_stage_events se WHERE se.lead_id = l.id AND se.reason = 'qualified') AS moves
      FROM leads l WHERE l.bot_id = ${tenant.botId} AND l.wa_id = ${waId}`));
    expect(qualification).toEqual({ events: 1, stage: 'Qualified', moves: 1 });

    // The busy lead's history was handed over between runs (continue-as-new) without losing a message.
    // The stack suggests it after 1,000 events, and the burst takes about 1,900 (9.4 per message since
    // its memo is upserted once the queue drains): one hand-over at least.
    const runs = await runsOf(leadWorkflowId(tenant.tenantId, tenant.botId, waId));
    expect(runs.filter((status) => status === 'CONTINUED_AS_NEW').length).toBeGreaterThanOrEqual(1);

    const details = await withTenant(tenant.tenantId, (tx) => tx.one(sql.type(z.object({ name: z.string().nullable(), email: z.string().nullable() }))`
      SELECT name, email FROM leads WHERE bot_id = ${tenant.botId} AND wa_id = ${waId}`));
    expect(details).toEqual({ name: 'Carla Dias', email: 'carla@empresa.com' });

    // Operators find the lead in Temporal UI by its search attributes and read its score in the memo.
    const leadId = await withTenant(tenant.tenantId, (tx) => tx.oneFirst(sql.type(z.object({ id: z.uuid() }))`
      SELECT id FROM leads WHERE bot_id = ${tenant.botId} AND wa_id = ${waId}`));
    // The memo catches up once the lead's queue drains (the duplicates are answered after the last reply row).
    const describe = () => client.workflow.getHandle(leadWorkflowId(tenant.tenantId, tenant.botId, waId)).describe();
    let visible = await describe();
    for (const deadline = Date.now() + 30_000; visible.memo?.score !== expectedScoreOf(200) && Date.now() < deadline; visible = await describe()) await sleep(250);
    expect(visible.memo).toMatchObject({ waId, score: expectedScoreOf(200), qualified: true });
    expect([TENANT_ID, BOT_ID, LEAD_ID].map((key) => visible.typedSearchAttributes.get(key))).toEqual([tenant.tenantId, tenant.botId, leadId]);
  }, 180_000);

  it('survives the worker being SIGKILLed mid-burst: every message processed and answered exactly once', async () => {
    const waId = '5511977776666';
    const messages = messagesFor(waId, 60);
    await deliver(messages, 2);
    await waitForOutbound(waId, 10, 60_000);
    worker.kill('SIGKILL');
    await once(worker, 'exit');
    const midway = await counts(waId);
    expect(midway.inbound).toBeLessThan(60);
    worker = await processes.start(['worker/main.ts']);

    await waitForOutbound(waId, 60, 150_000);
    await sleep(1_000);
    expect(await counts(waId)).toEqual({ inbound: 60, outbound: 60, score: expectedScoreOf(60) });
    const sends = sendsIn(waId);
    expect(sends).toHaveLength(60);
    expect(new Set(sends.map((send) => send.waMessageId)).size).toBe(60);
  }, 180_000);

  it('answers one lead\'s messages in the order they arrived, whatever their timestamps say', async () => {
    const waId = '5511966665555';
    const messages = messagesFor(waId, 12).map((message, i) => ({ ...message, receivedAt: new Date(Date.UTC(2026, 0, 2, 0, 0, 59 - i)).toISOString() }));
    for (const message of messages) await signalOne(client, message);
    await waitForOutbound(waId, 12, 60_000);
    expect(sendsIn(waId).map((send) => send.waMessageId)).toEqual(messages.map((message) => messageIdFor(`reply:${message.waMessageId}`)));
    await saveHistories(config, client, leadWorkflowId(tenant.tenantId, tenant.botId, waId), 'lead-conversation-arrival-order');
  }, 90_000);

  it('ends a conversation after its idle period and starts a new one on the next message', async () => {
    const waId = '5511955554444';
    const [first, second] = messagesFor(waId, 2) as [InboundMessage, InboundMessage];
    const workflowId = leadWorkflowId(tenant.tenantId, tenant.botId, waId);
    await signalOne(client, first, 2);
    await waitForOutbound(waId, 1, 30_000);
    const firstRun = client.workflow.getHandle(workflowId);
    await firstRun.result();
    expect((await firstRun.describe()).status.name).toBe('COMPLETED');

    await signalOne(client, second, 2);
    expect(await waitForOutbound(waId, 2, 30_000)).toMatchObject({ inbound: 2, outbound: 2 });
    await client.workflow.getHandle(workflowId).result();
    expect(await runsOf(workflowId)).toEqual(['COMPLETED', 'COMPLETED']);
    await saveHistories(config, client, workflowId, 'lead-conversation-idle');
  }, 90_000);
});
