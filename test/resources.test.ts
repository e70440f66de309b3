// The resources an admin changes and removes through the API alone (issue 18): PATCH of tenants,
// bots, products, users and pipelines' names, a lead's owner and assignee, the lead delete, and a
// bot's image list and delete. Each route against the real database and S3: the happy path, bad
// input refused and nothing changed, another tenant's ids answered 404 (or 422 for a reference in
// the body), and the audit row with the fields before and after.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { pino } from 'pino';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { createApp } from '../api/app.ts';
import { issueToken } from '../api/token-store.ts';
import { loadConfig } from '../core/config.ts';
import { createDatabasePools, createTokenAdminPool, type DatabasePools } from '../core/db/pools.ts';
import { createWithTenant, type WithTenant } from '../core/db/with-tenant.ts';
import { messageMediaKey, tenantImageKey } from '../core/object-keys.ts';
import { createObjectStoreClient } from '../core/object-store.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

const config = loadConfig();
const s3 = createObjectStoreClient(config.s3);
let pools: DatabasePools;
let tokenPool: DatabasePool;
let withTenant: WithTenant;
let tenantA: TenantGraph;
let tenantB: TenantGraph;
let api: ReturnType<typeof createApp>;
let base: string;
const tokens = { platform: '', tenantA: '' };

beforeAll(async () => {
  pools = await createDatabasePools(config.database);
  tokenPool = await createTokenAdminPool(config.database);
  withTenant = createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 });
  [tenantA, tenantB] = [await seedTenant(withTenant), await seedTenant(withTenant)];
  api = createApp({
    config: { ...config, api: { ...config.api, rateLimit: { ...config.api.rateLimit, scope: randomUUID(), perIp: 100_000, perToken: 100_000 } } },
    pools, tokenPool, withTenant, logger: pino({ level: 'silent' }), s3,
    // None of these routes starts a workflow.
    temporalHealthy: async () => true, temporal: async () => { throw new Error('no Temporal in this test'); },
  });
  const server = await api.start(0, '127.0.0.1');
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}/api/v1`;
  tokens.platform = (await issueToken(tokenPool, { tenantId: null, name: 'test', expiresAt: null, actor: 'test' }))!.token;
  tokens.tenantA = (await issueToken(tokenPool, { tenantId: tenantA.tenantId, name: 'test', expiresAt: null, actor: 'test' }))!.token;
});
afterAll(async () => {
  await api.stop();
  s3.destroy();
  await Promise.all([pools.end(), tokenPool.end()]);
});

const call = async (method: string, path: string, token: string, body?: unknown) => {
  const response = await fetch(`${base}${path}`, {
    method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, type: response.headers.get('content-type') ?? '', json: text ? JSON.parse(text) as Record<string, unknown> : {} };
};

const auditRow = z.object({ actor: z.string(), details: z.record(z.string(), z.unknown()) });
/** The newest audit row of `action` in the tenant. */
const lastAudit = (tenantId: string, action: string) => withTenant(tenantId, (tx) => tx.maybeOne(sql.type(auditRow)`
  SELECT actor, details FROM audit_logs WHERE tenant_id = ${tenantId} AND action = ${action} ORDER BY created_at DESC, id DESC LIMIT 1`));
const auditCount = (tenantId: string, action: string) => withTenant(tenantId, (tx) => tx.oneFirst(sql.type(z.object({ n: z.number() }))`
  SELECT count(*)::int AS n FROM audit_logs WHERE tenant_id = ${tenantId} AND action = ${action}`));

/** Each body is refused with a 400 problem document, and the audit gains no row. */
const expectRefused = async (method: string, path: string, token: string, tenantId: string, action: string, bodies: unknown[]) => {
  const before = await auditCount(tenantId, action);
  for (const body of bodies) {
    const response = await call(method, path, token, body);
    expect([JSON.stringify(body), response.status, response.type]).toEqual([JSON.stringify(body), 400, expect.stringContaining('application/problem+json')]);
  }
  expect(await auditCount(tenantId, action)).toBe(before);
};

describe('PATCH /tenants/{tenantId}', () => {
  it('changes the name and settings for a platform admin, audited; refuses a tenant token, the slug, bad settings; 404 for no tenant', async () => {
    const path = `/tenants/${tenantA.tenantId}`;
    const settings = { timezone: 'America/Sao_Paulo', retentionDays: 30 };
    const updated = await call('PATCH', path, tokens.platform, { name: 'Padaria Central', settings });
    expect(updated.status).toBe(200);
    expect(updated.json).toMatchObject({ id: tenantA.tenantId, name: 'Padaria Central', settings, slug: `tenant-${tenantA.tenantId.slice(0, 8)}` });
    expect((await call('GET', path, tokens.tenantA)).json).toMatchObject({ name: 'Padaria Central', settings });
    // The stored settings, with the defaults the settings schema fills in (leadFields, replies).
    expect(await lastAudit(tenantA.tenantId, 'tenant.updated')).toEqual({
      actor: expect.stringMatching(/^api:/),
      details: { tenantId: tenantA.tenantId, before: { name: 'Tenant', settings: { retentionDays: 90 } }, after: { name: 'Padaria Central', settings: updated.json.settings } },
    });

    expect((await call('PATCH', path, tokens.tenantA, { name: 'Mine now' })).status).toBe(403);
    expect((await call('PATCH', `/tenants/${randomUUID()}`, tokens.platform, { name: 'Nobody' })).status).toBe(404);
    await expectRefused('PATCH', path, tokens.platform, tenantA.tenantId, 'tenant.updated', [
      {}, { slug: 'another-slug' }, { name: '' }, { settings: { retentionDays: 0 } }, { settings: { timezone: 'Mars/Olympus' } }, { name: 'x'.repeat(201) },
    ]);
  });
});

describe('PATCH /tenants/{tenantId}/bots/{botId}', () => {
  it('changes the name and phone, clears the phone with null, audited; refuses the threshold and bad input; 404 for another tenant\'s bot', async () => {
    const path = `/tenants/${tenantA.tenantId}/bots/${tenantA.botId}`;
    const updated = await call('PATCH', path, tokens.tenantA, { name: 'Vendas', phoneE164: '+5511988887777' });
    expect(updated.json).toMatchObject({ id: tenantA.botId, name: 'Vendas', phoneE164: '+5511988887777', qualificationThreshold: 70 });
    expect(await lastAudit(tenantA.tenantId, 'bot.updated')).toMatchObject({
      details: { botId: tenantA.botId, before: { name: 'Bot', phoneE164: '+5511999990000' }, after: { name: 'Vendas', phoneE164: '+5511988887777' } },
    });
    expect((await call('PATCH', path, tokens.tenantA, { phoneE164: null })).json).toMatchObject({ name: 'Vendas', phoneE164: null });

    await expectRefused('PATCH', path, tokens.tenantA, tenantA.tenantId, 'bot.updated', [
      {}, { qualificationThreshold: 10 }, { phoneE164: '12345' }, { name: '' }, { status: 'archived' },
    ]);
    expect((await call('PATCH', `/tenants/${tenantA.tenantId}/bots/${tenantB.botId}`, tokens.tenantA, { name: 'Stolen' })).status).toBe(404);
    expect((await call('PATCH', `/tenants/${tenantB.tenantId}/bots/${tenantB.botId}`, tokens.tenantA, { name: 'Stolen' })).status).toBe(404);
    const nameOfB = await withTenant(tenantB.tenantId, (tx) => tx.oneFirst(sql.type(z.object({ name: z.string() }))`SELECT name FROM bots WHERE id = ${tenantB.botId}`));
    expect(nameOfB).toBe('Bot');
  });
});

describe('PATCH /tenants/{tenantId}/bots/{botId}/products/{productId}', () => {
  it('changes the fields given, audited; 409 for a taken SKU, 422 for another tenant\'s image, 404 for another tenant\'s product', async () => {
    const products = `/tenants/${tenantA.tenantId}/bots/${tenantA.botId}/products`;
    const path = `${products}/${tenantA.productId}`;
    const updated = await call('PATCH', path, tokens.tenantA, { price: '149.90', name: 'Plano Pro', description: 'Tudo incluído' });
    expect(updated.json).toMatchObject({ id: tenantA.productId, sku: tenantA.sku, name: 'Plano Pro', price: '149.90', description: 'Tudo incluído', imageId: tenantA.imageId });
    expect(await lastAudit(tenantA.tenantId, 'product.updated')).toMatchObject({
      details: {
        productId: tenantA.productId, botId: tenantA.botId,
        before: { description: null, name: 'Plan', price: '99.90' }, after: { description: 'Tudo incluído', name: 'Plano Pro', price: '149.90' },
      },
    });
    expect((await call('PATCH', path, tokens.tenantA, { imageId: null, active: false })).json).toMatchObject({ imageId: null, active: false });

    const other = await call('POST', products, tokens.tenantA, { sku: 'SKU-2', name: 'Other', price: '1' });
    expect((await call('PATCH', `${products}/${String(other.json.id)}`, tokens.tenantA, { sku: tenantA.sku })).json)
      .toMatchObject({ status: 409, title: 'SKU taken', detail: `the bot already has a product ${tenantA.sku}` });
    expect((await call('PATCH', path, tokens.tenantA, { imageId: tenantB.imageId })).json).toMatchObject({ status: 422, title: 'No such image' });
    await expectRefused('PATCH', path, tokens.tenantA, tenantA.tenantId, 'product.updated', [
      {}, { price: '-1' }, { price: '1.999' }, { sku: 'bad sku' }, { currency: 'real' }, { imageId: 'not-a-uuid' },
    ]);
    expect((await call('PATCH', `${products}/${tenantB.productId}`, tokens.tenantA, { name: 'Stolen' })).status).toBe(404);
    expect((await call('GET', products, tokens.tenantA)).json.items).toEqual(expect.arrayContaining([expect.objectContaining({ id: tenantA.productId, price: '149.90', imageId: null })]));
  });
});

describe('PATCH /tenants/{tenantId}/users/{userId}', () => {
  it('changes e-mail (stored lower-case), name and role, audited; 409 for a taken e-mail; 404 for another tenant\'s user', async () => {
    const users = `/tenants/${tenantA.tenantId}/users`;
    const path = `${users}/${tenantA.userId}`;
    const updated = await call('PATCH', path, tokens.tenantA, { email: 'Dona@Example.com', name: 'Dona Maria', role: 'admin' });
    expect(updated.json).toEqual({ id: tenantA.userId, email: 'dona@example.com', name: 'Dona Maria', role: 'admin' });
    expect(await lastAudit(tenantA.tenantId, 'user.updated')).toMatchObject({
      details: {
        userId: tenantA.userId,
        before: { email: tenantA.email, name: null, role: 'owner' }, after: { email: 'dona@example.com', name: 'Dona Maria', role: 'admin' },
      },
    });
    await call('POST', users, tokens.tenantA, { email: 'agent@example.com' });
    expect((await call('PATCH', path, tokens.tenantA, { email: 'agent@example.com' })).json)
      .toMatchObject({ status: 409, title: 'E-mail taken', detail: 'agent@example.com is already a user of this tenant' });
    await expectRefused('PATCH', path, tokens.tenantA, tenantA.tenantId, 'user.updated', [{}, { role: 'root' }, { email: 'not an address' }, { id: randomUUID() }]);
    expect((await call('PATCH', `${users}/${tenantB.userId}`, tokens.tenantA, { role: 'agent' })).status).toBe(404);
  });
});

describe('PATCH /tenants/{tenantId}/pipelines/{pipelineId}', () => {
  it('renames a pipeline, audited; 409 for a taken name; 404 for another tenant\'s pipeline', async () => {
    const pipelines = `/tenants/${tenantA.tenantId}/pipelines`;
    const renamed = await call('PATCH', `${pipelines}/${tenantA.pipelineId}`, tokens.tenantA, { name: 'Vendas' });
    expect(renamed.json).toMatchObject({ id: tenantA.pipelineId, name: 'Vendas', isDefault: true, stages: [{ name: 'New' }, { name: 'Qualified' }] });
    expect(await lastAudit(tenantA.tenantId, 'pipeline.updated')).toMatchObject({
      details: { pipelineId: tenantA.pipelineId, before: { name: 'Sales' }, after: { name: 'Vendas' } },
    });
    await call('POST', pipelines, tokens.tenantA, { name: 'Parcerias', stages: [{ name: 'Contato' }] });
    expect((await call('PATCH', `${pipelines}/${tenantA.pipelineId}`, tokens.tenantA, { name: 'Parcerias' })).json)
      .toMatchObject({ status: 409, title: 'Name taken', detail: 'a pipeline named Parcerias exists' });
    await expectRefused('PATCH', `${pipelines}/${tenantA.pipelineId}`, tokens.tenantA, tenantA.tenantId, 'pipeline.updated', [{}, { name: '' }, { isDefault: false }]);
    expect((await call('PATCH', `${pipelines}/${tenantB.pipelineId}`, tokens.tenantA, { name: 'Stolen' })).status).toBe(404);
  });
});

describe('PATCH /tenants/{tenantId}/leads/{leadId}', () => {
  it('sets and clears the owner and assignee, audited; 422 for another tenant\'s user; 404 for another tenant\'s lead', async () => {
    const path = `/tenants/${tenantA.tenantId}/leads/${tenantA.leadId}`;
    const agent = await call('POST', `/tenants/${tenantA.tenantId}/users`, tokens.tenantA, { email: 'vendedor@example.com', role: 'agent' });
    const agentId = String(agent.json.id);
    const assigned = await call('PATCH', path, tokens.tenantA, { assignedToUserId: agentId });
    expect(assigned.json).toMatchObject({ id: tenantA.leadId, ownerUserId: tenantA.userId, assignedToUserId: agentId });
    expect(await lastAudit(tenantA.tenantId, 'lead.updated')).toMatchObject({
      details: { leadId: tenantA.leadId, before: { assignedToUserId: tenantA.userId }, after: { assignedToUserId: agentId } },
    });
    expect((await call('PATCH', path, tokens.tenantA, { ownerUserId: null })).json).toMatchObject({ ownerUserId: null, assignedToUserId: agentId });
    expect((await call('GET', path, tokens.tenantA)).json).toMatchObject({ ownerUserId: null, assignedToUserId: agentId });

    const refused = await call('PATCH', path, tokens.tenantA, { ownerUserId: tenantB.userId });
    expect(refused.json).toMatchObject({ status: 422, title: 'No such user', detail: `user ${tenantB.userId} is not a user of this tenant` });
    expect((await call('PATCH', path, tokens.tenantA, { assignedToUserId: randomUUID() })).status).toBe(422);
    await expectRefused('PATCH', path, tokens.tenantA, tenantA.tenantId, 'lead.updated', [{}, { ownerUserId: 'someone' }, { score: 100 }]);
    expect((await call('PATCH', `/tenants/${tenantA.tenantId}/leads/${tenantB.leadId}`, tokens.tenantA, { ownerUserId: null })).status).toBe(404);
    expect((await call('GET', path, tokens.tenantA)).json).toMatchObject({ ownerUserId: null, assignedToUserId: agentId });
  });
});

describe('DELETE /tenants/{tenantId}/leads/{leadId}', () => {
  it('deletes the lead with what cascades, audited, and the media objects of its messages; 404 for another tenant\'s lead and after', async () => {
    const { tenantId, botId, leadId } = tenantA;
    const mediaKey = messageMediaKey(tenantId, randomUUID(), 'ogg');
    await s3.send(new PutObjectCommand({ Bucket: config.s3.bucket, Key: mediaKey, Body: Buffer.from('OggS voice note'), ContentType: 'audio/ogg' }));
    await withTenant(tenantId, (tx) => tx.query(sql.unsafe`
      INSERT INTO lead_messages (tenant_id, bot_id, lead_id, direction, wa_message_id, body, media_object_key, media_content_type)
      VALUES (${tenantId}, ${botId}, ${leadId}, 'inbound', 'WAMID-VOICE-1', '', ${mediaKey}, 'audio/ogg')`));

    expect((await call('DELETE', `/tenants/${tenantId}/leads/${tenantB.leadId}`, tokens.tenantA)).status).toBe(404);
    const deleted = await call('DELETE', `/tenants/${tenantId}/leads/${leadId}`, tokens.tenantA);
    expect(deleted.json).toEqual({
      leadId, deleted: { messages: 2, stageEvents: 1, events: 1, emailEnrollments: 1, followUps: 1, mediaObjects: 1 }, mediaObjectsLeft: 0,
    });
    const left = await withTenant(tenantId, (tx) => tx.one(sql.type(z.object({ leads: z.number(), messages: z.number() }))`
      SELECT (SELECT count(*)::int FROM leads WHERE id = ${leadId}) AS leads, (SELECT count(*)::int FROM lead_messages WHERE lead_id = ${leadId}) AS messages`));
    expect(left).toEqual({ leads: 0, messages: 0 });
    await expect(s3.send(new GetObjectCommand({ Bucket: config.s3.bucket, Key: mediaKey }))).rejects.toThrow();
    expect(await lastAudit(tenantId, 'lead.deleted')).toMatchObject({ actor: expect.stringMatching(/^api:/), details: { leadId, botId, deleted: deleted.json.deleted } });

    expect((await call('DELETE', `/tenants/${tenantId}/leads/${leadId}`, tokens.tenantA)).status).toBe(404);
    expect((await call('DELETE', `/tenants/${tenantId}/leads/not-a-uuid`, tokens.tenantA)).status).toBe(400);
    const leadOfB = await withTenant(tenantB.tenantId, (tx) => tx.exists(sql.unsafe`SELECT 1 FROM leads WHERE id = ${tenantB.leadId}`));
    expect(leadOfB).toBe(true);
  });
});

describe('GET and DELETE /tenants/{tenantId}/bots/{botId}/images', () => {
  it('lists a bot\'s images and deletes one with its object, unlinking its products, audited; 404 for another tenant\'s bot or image', async () => {
    const { tenantId, botId } = tenantA;
    const images = `/tenants/${tenantId}/bots/${botId}/images`;
    const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(64, 1)]);
    const uploaded = await call('POST', images, tokens.tenantA, { contentType: 'image/png', data: png.toString('base64'), keywords: ['cardápio', 'bolo'] });
    expect(uploaded.status).toBe(201);
    const imageId = String(uploaded.json.id);
    const product = await call('POST', `/tenants/${tenantId}/bots/${botId}/products`, tokens.tenantA, { sku: 'BOLO-1', name: 'Bolo', price: '35', imageId });

    const listed = await call('GET', images, tokens.tenantA);
    expect(listed.status).toBe(200);
    expect(listed.json.items).toEqual([
      expect.objectContaining({ id: tenantA.imageId, objectKey: tenantImageKey(tenantId, 'a', 'png'), keywords: [] }),
      { id: imageId, objectKey: uploaded.json.objectKey, contentType: 'image/png', sizeBytes: png.length, keywords: ['cardápio', 'bolo'], createdAt: expect.any(String) },
    ]);
    // The upload answers what the list shows.
    expect((listed.json.items as unknown[])[1]).toEqual(uploaded.json);
    expect((await call('GET', `/tenants/${tenantId}/bots/${tenantB.botId}/images`, tokens.tenantA)).status).toBe(404);
    expect((await call('DELETE', `${images}/${tenantB.imageId}`, tokens.tenantA)).status).toBe(404);

    const deleted = await call('DELETE', `${images}/${imageId}`, tokens.tenantA);
    expect(deleted.json).toEqual({ imageId, deleted: true, productsUnlinked: 1, objectDeleted: true });
    await expect(s3.send(new GetObjectCommand({ Bucket: config.s3.bucket, Key: String(uploaded.json.objectKey) }))).rejects.toThrow();
    const products = await call('GET', `/tenants/${tenantId}/bots/${botId}/products`, tokens.tenantA);
    expect(products.json.items).toEqual(expect.arrayContaining([expect.objectContaining({ id: product.json.id, imageId: null })]));
    expect((await call('GET', images, tokens.tenantA)).json.items).toEqual([expect.objectContaining({ id: tenantA.imageId })]);
    expect(await lastAudit(tenantId, 'bot-image.deleted')).toMatchObject({
      details: { imageId, botId, objectKey: uploaded.json.objectKey, productsUnlinked: 1 },
    });
    expect((await call('DELETE', `${images}/${imageId}`, tokens.tenantA)).status).toBe(404);
    const imageOfB = await withTenant(tenantB.tenantId, (tx) => tx.exists(sql.unsafe`SELECT 1 FROM bot_images WHERE id = ${tenantB.imageId}`));
    expect(imageOfB).toBe(true);
  });
});

describe('creates through the API', () => {
  it('audit the new tenant (a platform row), user, bot and image with the token that made them, and no row for a refused create', async () => {
    const tenant = await call('POST', '/tenants', tokens.platform, { name: 'Padaria Nova', slug: `padaria-${randomUUID().slice(0, 8)}` });
    expect(tenant.status).toBe(201);
    const tenantId = String(tenant.json.id);
    // A platform row, as the tenant's delete is: it outlives the tenant.
    expect(await pools.maintenance.any(sql.type(auditRow)`
      SELECT actor, details FROM audit_logs WHERE tenant_id IS NULL AND action = 'tenant.created' AND details->>'tenantId' = ${tenantId}`))
      .toEqual([{ actor: expect.stringMatching(/^api:/), details: { tenantId, slug: tenant.json.slug } }]);

    const user = await call('POST', `/tenants/${tenantId}/users`, tokens.platform, { email: 'Dono@Padaria.example', role: 'owner' });
    expect(await lastAudit(tenantId, 'user.created')).toEqual({
      actor: expect.stringMatching(/^api:/), details: { userId: user.json.id, email: 'dono@padaria.example', role: 'owner' },
    });
    const bot = await call('POST', `/tenants/${tenantId}/bots`, tokens.platform, { name: 'Vendas', phoneE164: '+5511988887777' });
    expect(await lastAudit(tenantId, 'bot.created')).toEqual({
      actor: expect.stringMatching(/^api:/), details: { botId: bot.json.id, name: 'Vendas', phoneE164: '+5511988887777', qualificationThreshold: 70 },
    });
    const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==', 'base64');
    const image = await call('POST', `/tenants/${tenantId}/bots/${bot.json.id}/images`, tokens.platform, { contentType: 'image/png', data: png.toString('base64'), keywords: ['bolo'] });
    expect(await lastAudit(tenantId, 'bot-image.created')).toEqual({
      actor: expect.stringMatching(/^api:/),
      details: { imageId: image.json.id, botId: bot.json.id, objectKey: image.json.objectKey, contentType: 'image/png', sizeBytes: png.length, keywords: ['bolo'] },
    });

    // A refused create writes nothing: a taken e-mail, bad bot fields.
    expect((await call('POST', `/tenants/${tenantId}/users`, tokens.platform, { email: 'dono@padaria.example' })).status).toBe(409);
    await expectRefused('POST', `/tenants/${tenantId}/bots`, tokens.platform, tenantId, 'bot.created', [{ name: '' }, { name: 'X', status: 'active' }]);
    expect([await auditCount(tenantId, 'user.created'), await auditCount(tenantId, 'bot.created')]).toEqual([1, 1]);
  });
});
