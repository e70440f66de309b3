// The ingest and reply activities on the real database: lead identity (phone and lid), the tenant's
// own lead fields and templates, catalog matches, and the chat composer with its fallback.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'slonik';
import { z } from 'zod';
import { createChatComposerActivities } from '../activities/lead-conversation/chat-composer.ts';
import { createLeadActivities } from '../activities/lead-conversation/ingest.ts';
import { createScoringPool } from '../activities/scoring/pool.ts';
import { loadConfig } from '../core/config.ts';
import { createDatabasePools, type DatabasePools } from '../core/db/pools.ts';
import { createWithTenant, type WithTenant } from '../core/db/with-tenant.ts';
import type { InboundMessage } from '../core/temporal/lead-conversation.ts';
import { startHttpRecorder } from './support/http-recorder.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

const config = loadConfig();
const scoring = createScoringPool(config.conversation.scoring);
let pools: DatabasePools;
let withTenant: WithTenant;
let tenant: TenantGraph;
let activities: ReturnType<typeof createLeadActivities>;
let sequence = 0;

beforeAll(async () => {
  pools = await createDatabasePools(config.database);
  withTenant = createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 });
  tenant = await seedTenant(withTenant);
  activities = createLeadActivities({ withTenant, chatComposerConfigured: false, scoring });
});
afterAll(async () => {
  await scoring.close();
  await pools.end();
});

const message = (fields: Partial<InboundMessage> & { waId: string }): InboundMessage => ({
  tenantId: tenant.tenantId, botId: tenant.botId, waMessageId: `ingest-${(sequence += 1)}`, text: 'oi', receivedAt: new Date().toISOString(), ...fields,
});

const leadsOfBot = () => withTenant(tenant.tenantId, (tx) => tx.any(sql.type(z.object({
  id: z.uuid(), wa_id: z.string(), phone_e164: z.string().nullable(), lid: z.string().nullable(), messages: z.number(),
}))`
  SELECT l.id, l.wa_id, l.phone_e164, l.lid, (SELECT count(*)::int FROM lead_messages m WHERE m.lead_id = l.id) AS messages
  FROM leads l WHERE l.bot_id = ${tenant.botId} AND l.wa_id <> ${tenant.waId} ORDER BY l.created_at, l.wa_id`));

describe('lead identity', () => {
  it('links a lid to its phone only on the mapping WhatsApp gives, and never merges two leads on a guess', async () => {
    // 1. An anonymous sender: the lead is known by its lid only.
    const anonymous = await activities.ingestInbound(message({ waId: '101010', lid: '101010', pushName: 'Ana' }));
    // 2. The same person, now with Baileys' lid-to-phone mapping: same lead, phone added.
    const mapped = await activities.ingestInbound(message({ waId: '5511933332222', lid: '101010', phoneE164: '+5511933332222' }));
    expect(mapped.leadId).toBe(anonymous.leadId);
    // 3. The lid alone again: still that lead.
    expect((await activities.ingestInbound(message({ waId: '101010', lid: '101010' }))).leadId).toBe(anonymous.leadId);
    // 4. Another lid with the same push name: a different lead (a name is not an identity).
    const other = await activities.ingestInbound(message({ waId: '202020', lid: '202020', pushName: 'Ana' }));
    expect(other.leadId).not.toBe(anonymous.leadId);
    // 5. A phone lead and a lid lead that exist apart, then a message carrying both: the phone
    //    lead gets the message, the lid stays with its own lead, and both leads remain.
    const phoneLead = await activities.ingestInbound(message({ waId: '5511922221111', phoneE164: '+5511922221111' }));
    const lidLead = await activities.ingestInbound(message({ waId: '303030', lid: '303030' }));
    const both = await activities.ingestInbound(message({ waId: '5511922221111', lid: '303030', phoneE164: '+5511922221111' }));
    expect(both.leadId).toBe(phoneLead.leadId);

    expect(await leadsOfBot()).toEqual([
      { id: anonymous.leadId, wa_id: '101010', phone_e164: '+5511933332222', lid: '101010', messages: 3 },
      { id: other.leadId, wa_id: '202020', phone_e164: null, lid: '202020', messages: 1 },
      { id: phoneLead.leadId, wa_id: '5511922221111', phone_e164: '+5511922221111', lid: null, messages: 2 },
      { id: lidLead.leadId, wa_id: '303030', phone_e164: null, lid: '303030', messages: 1 },
    ]);
  });

  it('treats a second delivery of a message as a duplicate that changes nothing', async () => {
    const first = await activities.ingestInbound(message({ waId: '5511911110000', waMessageId: 'dup-1', text: 'price?' }));
    const again = await activities.ingestInbound(message({ waId: '5511911110000', waMessageId: 'dup-1', text: 'price?' }));
    expect(again).toMatchObject({ leadId: first.leadId, duplicate: true, score: first.score, qualifiedEventId: null });
    // The duplicate may be the retry of an attempt that never reported: it carries a reply to send
    // under the same idempotency key.
    expect(again.templateReply).toBe(first.templateReply);
  });

  const addWebhook = (tenantId: string, active: boolean) => withTenant(tenantId, (tx) => tx.oneFirst(sql.type(z.object({ id: z.uuid() }))`
    INSERT INTO owner_webhooks (tenant_id, url, secret, active)
    VALUES (${tenantId}, 'https://crm.example.com/hooks/leads', ${'s'.repeat(32)}, ${active}) RETURNING id`));
  const qualifiedEvents = (tenantId: string, leadId: string) => withTenant(tenantId, (tx) => tx.anyFirst(sql.type(z.object({ id: z.uuid() }))`
    SELECT id FROM lead_events WHERE lead_id = ${leadId} AND kind = 'lead.qualified'`));

  it('gives a retried ingest of the qualifying message its qualification event again, changing nothing', async () => {
    await addWebhook(tenant.tenantId, true);
    const waId = '5511911112222';
    const results = [];
    for (let i = 0; i < 7; i += 1) results.push(await activities.ingestInbound(message({ waId, waMessageId: `q-${i}`, text: 'price?' })));
    const qualifying = results[6]!;
    expect(qualifying).toMatchObject({ becameQualified: true, score: 70, qualifiedEventId: expect.any(String) });
    expect(results.slice(0, 6).every((result) => result.qualifiedEventId === null)).toBe(true);

    const retried = await activities.ingestInbound(message({ waId, waMessageId: 'q-6', text: 'price?' }));
    expect(retried).toMatchObject({ duplicate: true, becameQualified: false, score: 70, qualifiedEventId: qualifying.qualifiedEventId });
    expect(retried.templateReply).not.toBe('');
    expect(await qualifiedEvents(tenant.tenantId, qualifying.leadId)).toEqual([qualifying.qualifiedEventId]);
  });

  it('writes the qualification event but names none to notify while the tenant has no active webhook', async () => {
    const other = await seedTenant(withTenant);
    const webhookId = await addWebhook(other.tenantId, false);
    const waId = '5511911113333';
    const ingest = (i: number) => activities.ingestInbound(message({ tenantId: other.tenantId, botId: other.botId, waId, waMessageId: `nq-${i}`, text: 'price?' }));
    const results = [];
    for (let i = 0; i < 7; i += 1) results.push(await ingest(i));
    const qualifying = results[6]!;
    expect(qualifying).toMatchObject({ becameQualified: true, isQualified: true, score: 70, qualifiedEventId: null });
    const [event] = await qualifiedEvents(other.tenantId, qualifying.leadId);
    expect(event).toEqual(expect.any(String));

    // Switched on since: the retried qualifying message names the event, as the first ingest would have.
    await withTenant(other.tenantId, (tx) => tx.query(sql.unsafe`UPDATE owner_webhooks SET active = true WHERE id = ${webhookId}`));
    expect(await ingest(6)).toMatchObject({ duplicate: true, qualifiedEventId: event });
  });
});

describe('lead identity under concurrency and in any order', () => {
  let person = 0;
  /** A new person: a phone and a lid, and a message of each form WhatsApp sends (keyed as the pod did before canonical keys). */
  const newPerson = (graph: TenantGraph) => {
    const number = (person += 1);
    const phone = `55119${String(40000000 + number)}`;
    const lid = String(900000000000000 + number);
    const form = (kind: 'lid+phone' | 'lid' | 'phone', id: string): InboundMessage => ({
      tenantId: graph.tenantId, botId: graph.botId, waMessageId: `${id}-${kind}-${number}`, text: 'oi', receivedAt: new Date().toISOString(),
      ...(kind === 'lid+phone' ? { waId: phone, phoneE164: `+${phone}`, lid } : kind === 'lid' ? { waId: lid, lid } : { waId: phone, phoneE164: `+${phone}` }),
    });
    return { phone, lid, form };
  };
  const leadsOf = (graph: TenantGraph) => withTenant(graph.tenantId, (tx) => tx.any(sql.type(z.object({
    phone_e164: z.string().nullable(), lid: z.string().nullable(), messages: z.number(),
  }))`
    SELECT l.phone_e164, l.lid, (SELECT count(*)::int FROM lead_messages m WHERE m.lead_id = l.id) AS messages
    FROM leads l WHERE l.bot_id = ${graph.botId} AND l.wa_id <> ${graph.waId} ORDER BY l.phone_e164, l.lid`));

  it('gives 20 people who each send both forms at the same moment exactly 20 leads, with no error', async () => {
    const graph = await seedTenant(withTenant);
    const people = Array.from({ length: 20 }, () => newPerson(graph));
    const outcomes = await Promise.allSettled(people.flatMap((p) => [
      activities.ingestInbound(p.form('lid+phone', 'race')), activities.ingestInbound(p.form('lid', 'race')),
    ]));
    expect(outcomes.filter((outcome) => outcome.status === 'rejected')).toEqual([]);
    const leads = await leadsOf(graph);
    expect(leads).toEqual(people.map((p) => ({ phone_e164: `+${p.phone}`, lid: p.lid, messages: 2 })).sort((a, b) => a.phone_e164.localeCompare(b.phone_e164)));
  });

  it('finds the same lead whichever form comes first, once a message has paired the lid with the phone', async () => {
    const graph = await seedTenant(withTenant);
    const orders = [
      ['lid+phone', 'lid', 'phone'], ['lid+phone', 'phone', 'lid'], ['lid', 'lid+phone', 'phone'],
      ['phone', 'lid+phone', 'lid'], ['lid', 'lid+phone', 'lid'], ['phone', 'lid+phone', 'phone', 'lid'],
    ] as const;
    const people = orders.map(() => newPerson(graph));
    for (const [i, order] of orders.entries()) {
      const ids = [];
      for (const [n, kind] of order.entries()) ids.push((await activities.ingestInbound(people[i]!.form(kind, `order-${n}`))).leadId);
      expect([order.join(' > '), new Set(ids).size]).toEqual([order.join(' > '), 1]);
    }
    expect(await leadsOf(graph)).toHaveLength(orders.length);
  });
});

describe('tenant conversation settings', () => {
  it('collect only the tenant\'s lead fields and answer with its templates and catalog', async () => {
    await withTenant(tenant.tenantId, (tx) => tx.query(sql.unsafe`
      UPDATE tenants SET settings = settings || ${sql.jsonb({ leadFields: ['company', 'email'], replies: { catalog: 'We sell {products}.', askCompany: 'Which company?' } })}
      WHERE id = ${tenant.tenantId}`));
    const result = await activities.ingestInbound(message({ waId: '5511900001111', text: 'My name is Bruno Lima, I want the Plan' }));
    expect(result).toMatchObject({ missingFields: ['company', 'email'], catalogMatches: [{ name: 'Plan', price: '99.90', currency: 'BRL' }] });
    expect(result.templateReply).toBe('We sell Plan (BRL 99.90). Which company?');
    const name = await withTenant(tenant.tenantId, (tx) => tx.oneFirst(sql.type(z.object({ name: z.string().nullable() }))`
      SELECT name FROM leads WHERE id = ${result.leadId}`));
    expect(name).toBeNull(); // the tenant does not collect names
  });

  it('are refused by the database when they name an unknown lead field', async () => {
    const write = withTenant(tenant.tenantId, (tx) => tx.query(sql.unsafe`
      UPDATE tenants SET settings = settings || ${sql.jsonb({ leadFields: ['name', 'cpf'] })} WHERE id = ${tenant.tenantId}`));
    await expect(write).rejects.toMatchObject({ constraint: 'tenants_settings_lead_fields' });
  });
});

describe('chat composer', () => {
  const ingest = {
    leadId: '', duplicate: false, score: 0, isQualified: false, becameQualified: false, qualifiedEventId: null, matchedTags: [],
    missingFields: ['email' as const], catalogMatches: [{ name: 'Plan', price: '99.90', currency: 'BRL' }], templateReply: 'Template reply.',
    useChatComposer: true,
  };
  const compose = async (respond: Parameters<typeof startHttpRecorder>[0], timeoutMs = 2_000) => {
    const server = await startHttpRecorder(respond);
    const warnings: string[] = [];
    const composer = createChatComposerActivities({
      withTenant, log: (warning) => warnings.push(warning),
      chatComposer: { url: `${server.url}/v1`, apiKey: 'test-key', model: 'test-model', timeoutMs },
    });
    const lead = await activities.ingestInbound(message({ waId: '5511900002222', text: 'quanto custa o Plan?' }));
    try {
      const reply = await composer.composeChatReply({ tenantId: tenant.tenantId, botId: tenant.botId, leadId: lead.leadId, text: 'quanto custa o Plan?', ingest });
      return { reply, requests: server.requests, warnings };
    } finally {
      await server.close();
    }
  };

  it('asks an OpenAI-compatible endpoint, grounded in the catalog and the conversation', async () => {
    const { reply, requests } = await compose((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ choices: [{ message: { role: 'assistant', content: ' O Plan custa BRL 99.90. ' } }] }));
    });
    expect(reply).toEqual({ text: 'O Plan custa BRL 99.90.', source: 'chat' });
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ method: 'POST', path: '/v1/chat/completions', headers: { authorization: 'Bearer test-key' } });
    const body = JSON.parse(requests[0]!.body) as { model: string; messages: { role: string; content: string }[] };
    expect(body.model).toBe('test-model');
    expect(body.messages[0]!.content).toMatch(/Plan \(BRL 99\.90\)/);
    expect(body.messages.at(-1)).toEqual({ role: 'user', content: 'quanto custa o Plan?' });
  });

  it('falls back to the template reply on a timeout, an error status or an unusable answer', async () => {
    const hanging = await compose(() => undefined, 300);
    expect(hanging.reply).toEqual({ text: 'Template reply.', source: 'template' });
    expect(hanging.warnings[0]).toMatch(/timeout|aborted/i);
    const failing = await compose((_request, response) => response.writeHead(500).end('boom'));
    expect(failing.reply.source).toBe('template');
    expect(failing.warnings[0]).toMatch(/answered 500/);
    const malformed = await compose((_request, response) => response.writeHead(200).end('{"choices": []}'));
    expect(malformed.reply.source).toBe('template');
  });
});
