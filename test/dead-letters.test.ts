// Dead letters through real processes (the platform worker, the bot pod on the simulator,
// Temporal, Postgres) and the API in-process: a message that cannot be ingested never fails its
// lead's workflow, lands in the dead-letter table with an alert, and is listed and replayed
// through the API, by its own tenant only.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Client } from '@temporalio/client';
import { pino } from 'pino';
import { sql } from 'slonik';
import { z } from 'zod';
import { createApp } from '../api/app.ts';
import { issueToken } from '../api/token-store.ts';
import { messageIdFor } from '../bot-pods/sent-log.ts';
import { loadConfig } from '../core/config.ts';
import { createDatabasePools, createTokenAdminPool, type DatabasePools } from '../core/db/pools.ts';
import type { DatabasePool } from 'slonik';
import { createWithTenant, type WithTenant } from '../core/db/with-tenant.ts';
import { createObjectStoreClient } from '../core/object-store.ts';
import { connectTemporalClient } from '../core/temporal/client.ts';
import {
  INBOUND_SIGNAL, LEAD_CONVERSATION_WORKFLOW, leadWorkflowId, type InboundMessage, type LeadConversationInput,
} from '../core/temporal/lead-conversation.ts';
import type * as workflows from '../workflows/index.ts';
import { startBotPod, type BotPodHandle } from './support/bot-pod.ts';
import { saveHistories } from './support/histories.ts';
import { processGroup } from './support/processes.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

const config = loadConfig();
const processes = processGroup();
const s3 = createObjectStoreClient(config.s3);
let pools: DatabasePools;
let withTenant: WithTenant;
let tenantA: TenantGraph;
let tenantB: TenantGraph;
let client: Client;
let pod: BotPodHandle;
let api: ReturnType<typeof createApp>;
let base: string;
let tokenA: string;
let tokenPool: DatabasePool;

beforeAll(async () => {
  pools = await createDatabasePools(config.database);
  tokenPool = await createTokenAdminPool(config.database);
  withTenant = createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 });
  [tenantA, tenantB] = [await seedTenant(withTenant), await seedTenant(withTenant)];
  client = await connectTemporalClient(config.temporal);
  await processes.start(['worker/main.ts']);
  pod = await startBotPod(processes, tenantA.tenantId);
  api = createApp({
    config, pools, tokenPool, withTenant, logger: pino({ level: 'silent' }), s3, temporalHealthy: async () => true, temporal: async () => client,
  });
  const server = await api.start(0, '127.0.0.1');
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  tokenA = (await issueToken(tokenPool, { tenantId: tenantA.tenantId, name: 'test', expiresAt: null, actor: 'test' }))!.token;
}, 60_000);
afterAll(async () => {
  await api.stop();
  await processes.stopAll();
  await client.connection.close();
  s3.destroy();
  await Promise.all([pools.end(), tokenPool.end()]);
});

const call = async (method: string, path: string, token = tokenA) => {
  const response = await fetch(`${base}/api/v1${path}`, { method, headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, text: await response.clone().text(), json: await response.json() as Record<string, unknown> };
};

const messageOf = (waId: string, n: number, text = `mensagem ${n}, qual o price?`): InboundMessage => ({
  tenantId: tenantA.tenantId, botId: tenantA.botId, waId, waMessageId: `${waId}-DL-${n}`, text, receivedAt: new Date().toISOString(),
  phoneE164: `+${waId}`, chatJid: `${waId}@s.whatsapp.net`,
});
const deliver = (message: InboundMessage) => client.workflow.signalWithStart<typeof workflows.leadConversation, [InboundMessage]>(LEAD_CONVERSATION_WORKFLOW, {
  workflowId: leadWorkflowId(message.tenantId, message.botId, message.waId),
  taskQueue: config.temporal.taskQueue,
  args: [{ tenantId: message.tenantId, botId: message.botId, waId: message.waId, idleTimeoutSeconds: 60 } satisfies LeadConversationInput],
  signal: INBOUND_SIGNAL,
  signalArgs: [message],
});
/** The replies the bot pod sent for these inbound messages, in the order it sent them. */
const repliesTo = (messages: InboundMessage[]) => {
  const byReplyId = new Map(messages.map((message) => [messageIdFor(`reply:${message.waMessageId}`), message.waMessageId]));
  return pod.sends(tenantA.botId).filter((send) => byReplyId.has(send.waMessageId)).map((send) => byReplyId.get(send.waMessageId)!);
};
const waitFor = async <T>(read: () => Promise<T> | T, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> => {
  let value = await read();
  for (const deadline = Date.now() + timeoutMs; !done(value) && Date.now() < deadline; value = await read()) await sleep(250);
  return value;
};
const deadLetterOf = (waMessageId: string) => withTenant(tenantA.tenantId, (tx) => tx.maybeOne(sql.type(z.object({
  id: z.uuid(), reason: z.string(), attempts: z.number(), status: z.string(),
}))`SELECT id, reason, attempts, status FROM dead_letters WHERE wa_message_id = ${waMessageId}`));

describe('dead letters', () => {
  it('keep a message whose ingest fails for good out of the way: the lead goes on, the message is stored and alerted', async () => {
    const waId = '5511966001100';
    // Longer than any WhatsApp message: lead_messages refuses it (a constraint: never retried).
    const messages = [messageOf(waId, 1), messageOf(waId, 2, 'x'.repeat(70_000)), messageOf(waId, 3)];
    for (const message of messages) await deliver(message);

    expect(await waitFor(() => repliesTo(messages), (replies) => replies.length >= 2)).toEqual([messages[0]!.waMessageId, messages[2]!.waMessageId]);
    const stored = await waitFor(() => deadLetterOf(messages[1]!.waMessageId), (row) => row !== null);
    expect(stored).toMatchObject({ status: 'pending', attempts: 1, reason: expect.stringMatching(/ConstraintViolationError: .*lead_messages_body_length/) });
    const description = await client.workflow.getHandle(leadWorkflowId(tenantA.tenantId, tenantA.botId, waId)).describe();
    expect(description.status.name).toBe('RUNNING');

    // The alert: the tenant's audit row, and a platform event for platform admins (no message text in it).
    const audited = await withTenant(tenantA.tenantId, (tx) => tx.anyFirst(sql.type(z.object({ id: z.string() }))`
      SELECT details->>'deadLetterId' AS id FROM audit_logs WHERE action = 'lead.dead_lettered'`));
    expect(audited).toEqual([stored!.id]);
    const events = await pools.maintenance.any(sql.type(z.object({ payload: z.record(z.string(), z.unknown()) }))`
      SELECT payload FROM platform_events WHERE kind = 'lead.dead_lettered' AND payload->>'deadLetterId' = ${stored!.id}`);
    expect(events).toEqual([{ payload: expect.objectContaining({ tenantId: tenantA.tenantId, botId: tenantA.botId, attempts: 1 }) }]);
    expect(JSON.stringify(events)).not.toContain('xxxx');

    // Replayed while its cause is still there: delivered again, dead-lettered again (attempt 2).
    const replay = await call('POST', `/tenants/${tenantA.tenantId}/dead-letters/${stored!.id}/replay`);
    expect([replay.status, replay.json.redelivered]).toEqual([202, true]);
    expect(await waitFor(() => deadLetterOf(messages[1]!.waMessageId), (row) => row?.attempts === 2)).toMatchObject({ status: 'pending', attempts: 2 });
    await saveHistories(config, client, leadWorkflowId(tenantA.tenantId, tenantA.botId, waId), 'lead-conversation-dead-letter');
  }, 60_000);

  it('are listed to their own tenant, and replayed once: the message is answered once however often the replay is asked', async () => {
    // A message an earlier fault left here (its cause is gone now).
    const waId = '5511966002200';
    const message = messageOf(waId, 1);
    const deadLetterId = randomUUID();
    await withTenant(tenantA.tenantId, (tx) => tx.query(sql.unsafe`
      INSERT INTO dead_letters (id, tenant_id, bot_id, wa_message_id, message, reason)
      VALUES (${deadLetterId}, ${tenantA.tenantId}, ${tenantA.botId}, ${message.waMessageId}, ${sql.jsonb(message)}, 'ingestInbound: TimeoutFailure: retries exhausted')`));

    const listed = await call('GET', `/tenants/${tenantA.tenantId}/dead-letters?status=pending`);
    expect(listed.status).toBe(200);
    const items = listed.json.items as { id: string; message: InboundMessage; status: string }[];
    expect(items.find((item) => item.id === deadLetterId)).toMatchObject({ status: 'pending', message: { waMessageId: message.waMessageId, text: message.text } });
    expect(items.every((item) => item.message.tenantId === tenantA.tenantId)).toBe(true);

    const replays = await Promise.all([1, 2, 3].map(() => call('POST', `/tenants/${tenantA.tenantId}/dead-letters/${deadLetterId}/replay`)));
    expect(replays.map((replay) => replay.status)).toEqual([202, 202, 202]);
    expect(replays.filter((replay) => replay.json.redelivered === true)).toHaveLength(1);
    expect(await waitFor(() => repliesTo([message]), (replies) => replies.length >= 1)).toEqual([message.waMessageId]);
    expect((await call('POST', `/tenants/${tenantA.tenantId}/dead-letters/${deadLetterId}/replay`)).json).toMatchObject({
      redelivered: false, deadLetter: { id: deadLetterId, status: 'replayed', replayedAt: expect.any(String) },
    });
    await sleep(1000); // a second reply would land now
    expect(repliesTo([message])).toEqual([message.waMessageId]);
  }, 60_000);

  it('show a stored message that is not a whole inbound message as stored, and refuse to replay it (422), the row kept', async () => {
    const deadLetterId = randomUUID();
    await withTenant(tenantA.tenantId, (tx) => tx.query(sql.unsafe`
      INSERT INTO dead_letters (id, tenant_id, bot_id, wa_message_id, message, reason)
      VALUES (${deadLetterId}, ${tenantA.tenantId}, ${tenantA.botId}, 'PARTIAL-1', ${sql.jsonb({ waMessageId: 'PARTIAL-1', text: 'no sender' })}, 'ingestInbound: bad message')`));
    const listed = await call('GET', `/tenants/${tenantA.tenantId}/dead-letters?status=pending`);
    expect(listed.status).toBe(200);
    expect((listed.json.items as { id: string }[]).find((item) => item.id === deadLetterId)).toMatchObject({ message: { waMessageId: 'PARTIAL-1', text: 'no sender' } });
    const replay = await call('POST', `/tenants/${tenantA.tenantId}/dead-letters/${deadLetterId}/replay`);
    expect(replay.status).toBe(422);
    expect(String(replay.json.detail)).toContain('not a whole inbound message');
    expect((await call('GET', `/tenants/${tenantA.tenantId}/dead-letters/${deadLetterId}`)).json).toMatchObject({ status: 'pending' });
  });

  it('are neither visible nor replayable with another tenant\'s token or ids (404), and B\'s row stays as it was', async () => {
    const ofB = await pools.maintenance.one(sql.type(z.object({ id: z.uuid(), status: z.string(), updated_at: z.number() }))`
      SELECT id, status, updated_at FROM dead_letters WHERE tenant_id = ${tenantB.tenantId}`);
    const attempts = [
      ['GET', `/tenants/${tenantB.tenantId}/dead-letters`],
      ['GET', `/tenants/${tenantB.tenantId}/dead-letters/${ofB.id}`],
      ['POST', `/tenants/${tenantB.tenantId}/dead-letters/${ofB.id}/replay`],
      // B's id under A's own tenant path: RLS hides it.
      ['GET', `/tenants/${tenantA.tenantId}/dead-letters/${ofB.id}`],
      ['POST', `/tenants/${tenantA.tenantId}/dead-letters/${ofB.id}/replay`],
    ] as const;
    for (const [method, path] of attempts) {
      const response = await call(method, path);
      expect([method, path, response.status]).toEqual([method, path, 404]);
      expect(response.text).not.toContain('lost?'); // B's stored message text
    }
    const listed = await call('GET', `/tenants/${tenantA.tenantId}/dead-letters`);
    expect((listed.json.items as { id: string }[]).map((item) => item.id)).not.toContain(ofB.id);
    expect(await pools.maintenance.one(sql.type(z.object({ id: z.uuid(), status: z.string(), updated_at: z.number() }))`
      SELECT id, status, updated_at FROM dead_letters WHERE tenant_id = ${tenantB.tenantId}`)).toEqual(ofB);
    // Bad ids are a clear 400, not a 500.
    expect((await call('GET', `/tenants/${tenantA.tenantId}/dead-letters/not-a-uuid`)).status).toBe(400);
  });
});
