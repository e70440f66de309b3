// The seeds' full message flow (audit 2.1) through the simulator, the real bot pod, worker,
// Temporal, Postgres and S3: a message without words gets the bot's non-text reply; an image keyword
// sends its image once a day; a lead that completes its details qualifies and its owner is notified once.
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { Client } from '@temporalio/client';
import { sql } from 'slonik';
import { z } from 'zod';
import { loadConfig } from '../core/config.ts';
import { createDatabasePools, type DatabasePools } from '../core/db/pools.ts';
import { createWithTenant, type WithTenant } from '../core/db/with-tenant.ts';
import { DEFAULT_NON_TEXT_REPLY } from '../core/lead-conversation/message-kinds.ts';
import { createObjectStoreClient } from '../core/object-store.ts';
import { connectTemporalClient } from '../core/temporal/client.ts';
import { leadWorkflowId } from '../core/temporal/lead-conversation.ts';
import { startBotPod, type BotPodHandle } from './support/bot-pod.ts';
import { saveHistories } from './support/histories.ts';
import { startHttpRecorder } from './support/http-recorder.ts';
import { processGroup } from './support/processes.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

const config = loadConfig();
const processes = processGroup();
const s3 = createObjectStoreClient(config.s3);
const secret = randomBytes(32).toString('hex');
let pools: DatabasePools;
let withTenant: WithTenant;
let tenant: TenantGraph;
let pod: BotPodHandle;
let receiver: Awaited<ReturnType<typeof startHttpRecorder>>;
let client: Client;

const PNG = Buffer.from('89504e470d0a1a0a' + 'cd'.repeat(300), 'hex');

beforeAll(async () => {
  pools = await createDatabasePools(config.database);
  withTenant = createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 });
  client = await connectTemporalClient(config.temporal);
  receiver = await startHttpRecorder((_request, response) => response.writeHead(204).end());
  tenant = await seedTenant(withTenant);
  const objectKey = `tenants/${tenant.tenantId}/images/${randomUUID()}.png`;
  await s3.send(new PutObjectCommand({ Bucket: config.s3.bucket, Key: objectKey, Body: PNG, ContentType: 'image/png' }));
  await withTenant(tenant.tenantId, async (tx) => {
    const imageId = await tx.oneFirst(sql.type(z.object({ id: z.uuid() }))`
      INSERT INTO bot_images (tenant_id, bot_id, object_key, content_type, size_bytes, keywords)
      VALUES (${tenant.tenantId}, ${tenant.botId}, ${objectKey}, 'image/png', ${PNG.length}, '{cadeiras}') RETURNING id`);
    await tx.query(sql.unsafe`
      INSERT INTO products (tenant_id, bot_id, sku, name, price, image_id) VALUES (${tenant.tenantId}, ${tenant.botId}, 'CHAIR-1', 'Cadeira Eames', 450, ${imageId})`);
    await tx.query(sql.unsafe`
      INSERT INTO owner_webhooks (tenant_id, url, secret) VALUES (${tenant.tenantId}, ${`${receiver.url}/hooks/leads`}, ${secret})`);
  });
  await processes.start(['worker/main.ts']);
  pod = await startBotPod(processes, tenant.tenantId);
}, 60_000);

afterAll(async () => {
  await processes.stopAll();
  await receiver.close();
  s3.destroy();
  await client.connection.close();
  await pools.end();
});

let sequence = 0;
const inject = async (phone: string, message: object) => {
  sequence += 1;
  const id = `FLOW-${sequence}-${randomUUID().slice(0, 8)}`;
  const response = await fetch(`${pod.url}/simulator/bots/${tenant.botId}/inbound`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ key: { remoteJid: `${phone}@s.whatsapp.net`, fromMe: false, id }, message, messageTimestamp: Math.floor(Date.now() / 1000), pushName: 'Ana' }),
  });
  expect(response.status).toBe(202);
  return id;
};

const messageRow = z.object({ direction: z.string(), kind: z.string(), body: z.string() });
const messagesOf = (phone: string) => withTenant(tenant.tenantId, (tx) => tx.any(sql.type(messageRow)`
  SELECT m.direction, m.kind, m.body FROM lead_messages m JOIN leads l ON l.tenant_id = m.tenant_id AND l.id = m.lead_id
   WHERE l.bot_id = ${tenant.botId} AND l.wa_id = ${phone} ORDER BY m.created_at, m.direction`));
/** Waits until the lead has `outbound` replies recorded, then a moment more: a double send would land now. */
const waitForOutbound = async (phone: string, outbound: number) => {
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(200)) {
    if ((await messagesOf(phone)).filter((message) => message.direction === 'outbound').length >= outbound) break;
  }
  await sleep(1_500);
  return messagesOf(phone);
};
const sendsTo = (phone: string) => pod.sends(tenant.botId).filter((send) => send.jid === `${phone}@s.whatsapp.net`) as
  (ReturnType<BotPodHandle['sends']>[number] & { media?: { mimeType: string; bytes: number } })[];

describe('the seeds\' message flow', () => {
  it('answers a voice note, a sticker and a location with the non-text reply, and stores each as its kind', async () => {
    const phone = '5511940000001';
    await inject(phone, { audioMessage: { ptt: true, seconds: 3, mimetype: 'audio/ogg; codecs=opus' } });
    expect(await waitForOutbound(phone, 1)).toEqual([
      { direction: 'inbound', kind: 'audio', body: '' }, { direction: 'outbound', kind: 'text', body: DEFAULT_NON_TEXT_REPLY },
    ]);
    await withTenant(tenant.tenantId, (tx) => tx.query(sql.unsafe`
      UPDATE bots SET non_text_reply = 'Por aqui eu só leio texto: pode escrever?' WHERE tenant_id = ${tenant.tenantId} AND id = ${tenant.botId}`));
    await inject(phone, { stickerMessage: { mimetype: 'image/webp' } });
    await waitForOutbound(phone, 2);
    await inject(phone, { locationMessage: { degreesLatitude: -23.5, degreesLongitude: -46.6 } });
    const messages = await waitForOutbound(phone, 3);
    expect(messages.slice(2)).toEqual([
      { direction: 'inbound', kind: 'sticker', body: '' }, { direction: 'outbound', kind: 'text', body: 'Por aqui eu só leio texto: pode escrever?' },
      { direction: 'inbound', kind: 'location', body: '-23.5,-46.6' }, { direction: 'outbound', kind: 'text', body: 'Por aqui eu só leio texto: pode escrever?' },
    ]);
    expect(sendsTo(phone).map((send) => send.text)).toEqual([
      DEFAULT_NON_TEXT_REPLY, 'Por aqui eu só leio texto: pode escrever?', 'Por aqui eu só leio texto: pode escrever?',
    ]);
  }, 90_000);

  it('sends a product image once a day when a message names its keyword, with accents, case and plural', async () => {
    const phone = '5511940000002';
    await inject(phone, { conversation: 'Quero ver a cadeira' });
    const first = await waitForOutbound(phone, 2);
    expect(first.filter((message) => message.direction === 'outbound').map(({ kind, body }) => ({ kind, body })))
      .toEqual([{ kind: 'text', body: expect.any(String) }, { kind: 'image', body: 'Cadeira Eames (BRL 450.00)' }]);
    expect(sendsTo(phone).filter((send) => send.media)).toEqual([
      expect.objectContaining({ text: 'Cadeira Eames (BRL 450.00)', media: expect.objectContaining({ mimeType: 'image/png', bytes: PNG.length }) }),
    ]);
    // The same day, the same image again: the reply goes, the image does not.
    await inject(phone, { conversation: 'E as CADEIRAS em preto?' });
    const second = await waitForOutbound(phone, 3);
    expect(second.filter((message) => message.direction === 'outbound').map(({ kind }) => kind)).toEqual(['text', 'image', 'text']);
    expect(sendsTo(phone).filter((send) => send.media)).toHaveLength(1);
    const claims = await withTenant(tenant.tenantId, (tx) => tx.oneFirst(sql.type(z.object({ count: z.number() }))`
      SELECT count(*)::int AS count FROM lead_image_sends WHERE tenant_id = ${tenant.tenantId} AND bot_id = ${tenant.botId} AND lead_id <> ${tenant.leadId}`));
    expect(claims).toBe(1);
    // Replayed by test/replay.test.ts once accepted: a change to the image sends' commands fails CI.
    await saveHistories(config, client, leadWorkflowId(tenant.tenantId, tenant.botId, phone), 'lead-conversation-image');
  }, 90_000);

  it('qualifies a lead that completes its details below the threshold when the bot says so, and notifies its owner once', async () => {
    const leadOf = (phone: string) => withTenant(tenant.tenantId, (tx) => tx.maybeOne(sql.type(z.object({
      id: z.uuid(), score: z.number(), is_qualified: z.boolean(), stage_id: z.uuid().nullable(), events: z.number(),
    }))`
      SELECT l.id, l.score, l.is_qualified, l.stage_id,
             (SELECT count(*)::int FROM lead_events e WHERE e.tenant_id = l.tenant_id AND e.lead_id = l.id AND e.kind = 'lead.qualified') AS events
        FROM leads l WHERE l.tenant_id = ${tenant.tenantId} AND l.bot_id = ${tenant.botId} AND l.wa_id = ${phone}`));
    const completeDetails = async (phone: string) => {
      await inject(phone, { conversation: 'Oi, meu nome é Ana Souza' });
      await inject(phone, { conversation: 'trabalho na Padaria Central' });
      await inject(phone, { conversation: 'meu e-mail: ana.souza@example.com' });
      return waitForOutbound(phone, 3);
    };

    // Off (the default): complete details alone do not qualify.
    await completeDetails('5511940000003');
    expect(await leadOf('5511940000003')).toMatchObject({ score: 0, is_qualified: false, events: 0 });

    await withTenant(tenant.tenantId, (tx) => tx.query(sql.unsafe`
      UPDATE bots SET qualify_when_info_complete = true WHERE tenant_id = ${tenant.tenantId} AND id = ${tenant.botId}`));
    const phone = '5511940000004';
    const messages = await completeDetails(phone);
    const lead = await leadOf(phone);
    expect(lead).toMatchObject({ score: 0, is_qualified: true, stage_id: tenant.stageIds[1], events: 1 });
    // The third reply is the qualified template: the message that completed the details qualified the lead.
    expect(messages.at(-1)).toEqual({ direction: 'outbound', kind: 'text', body: 'Obrigado! Um consultor vai falar com você em breve.' });
    // Another message later: still one event, one webhook.
    await inject(phone, { conversation: 'obrigada!' });
    await waitForOutbound(phone, 4);
    for (const deadline = Date.now() + 15_000; receiver.requests.length === 0 && Date.now() < deadline; ) await sleep(200);
    await sleep(1_500);
    expect((await leadOf(phone))!.events).toBe(1);
    const notified = receiver.requests.map((request) => JSON.parse(request.body) as { type: string; leadId: string });
    expect(notified.filter((event) => event.leadId === lead!.id)).toEqual([expect.objectContaining({ type: 'lead.qualified', leadId: lead!.id })]);
  }, 120_000);
});
