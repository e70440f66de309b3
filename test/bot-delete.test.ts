// Bot delete with its leads: the dry run lists every row per table and every object, and changes
// nothing; an active bot with leads is refused (409, archive it first); the delete removes exactly what the dry
// run listed (rows and objects in S3), leaves the tenant's other bot whole, and is audited.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { loadConfig } from '../core/config.ts';
import { createDatabasePools, createTokenAdminPool, type DatabasePools } from '../core/db/pools.ts';
import { createWithTenant, type WithTenant } from '../core/db/with-tenant.ts';
import { messageMediaKey } from '../core/object-keys.ts';
import { createObjectStoreClient } from '../core/object-store.ts';
import { startEmailApi } from './support/email-api.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

const config = loadConfig();
const s3 = createObjectStoreClient(config.s3);
const bucket = config.s3.bucket;
let pools: DatabasePools;
let tokenPool: DatabasePool;
let withTenant: WithTenant;
let tenantA: TenantGraph;
let tenantB: TenantGraph;
let api: Awaited<ReturnType<typeof startEmailApi>>;
let tokenA: string;
let otherBotId: string;
let mediaKey: string;
let imageKey: string;

const id = z.object({ id: z.uuid() });
const exists = (key: string) => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(() => true, () => false);
const rowsOfBot = (tenant: TenantGraph, botId: string) => withTenant(tenant.tenantId, async (tx) => ({
  bots: await tx.oneFirst(sql.unsafe`SELECT count(*)::int FROM bots WHERE tenant_id = ${tenant.tenantId} AND id = ${botId}`),
  leads: await tx.oneFirst(sql.unsafe`SELECT count(*)::int FROM leads WHERE tenant_id = ${tenant.tenantId} AND bot_id = ${botId}`),
  lead_messages: await tx.oneFirst(sql.unsafe`SELECT count(*)::int FROM lead_messages WHERE tenant_id = ${tenant.tenantId} AND bot_id = ${botId}`),
  products: await tx.oneFirst(sql.unsafe`SELECT count(*)::int FROM products WHERE tenant_id = ${tenant.tenantId} AND bot_id = ${botId}`),
}));

beforeAll(async () => {
  pools = await createDatabasePools(config.database);
  tokenPool = await createTokenAdminPool(config.database);
  withTenant = createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 });
  [tenantA, tenantB] = [await seedTenant(withTenant), await seedTenant(withTenant)];
  api = await startEmailApi(config, { pools, tokenPool, withTenant });
  tokenA = await api.tokenFor(tenantA.tenantId);
  const { tenantId, botId, leadId } = tenantA;
  mediaKey = messageMediaKey(tenantId, randomUUID(), 'ogg');
  imageKey = `tenants/${tenantId}/images/a.png`; // the fixture's image row
  otherBotId = await withTenant(tenantId, async (tx) => {
    await tx.query(sql.unsafe`
      INSERT INTO lead_messages (tenant_id, bot_id, lead_id, direction, wa_message_id, body, media_object_key, media_content_type)
      VALUES (${tenantId}, ${botId}, ${leadId}, 'inbound', 'WAMID-VOICE', '', ${mediaKey}, 'audio/ogg')`);
    // A second bot of the tenant, with a lead of its own: the delete must leave it whole.
    const other = await tx.oneFirst(sql.type(id)`INSERT INTO bots (tenant_id, name) VALUES (${tenantId}, 'Other') RETURNING id`);
    await tx.query(sql.unsafe`INSERT INTO leads (tenant_id, bot_id, wa_id) VALUES (${tenantId}, ${other}, '5511988887777')`);
    return other;
  });
  for (const key of [mediaKey, imageKey]) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `object ${key}` }));
});
afterAll(async () => {
  await api.stop();
  s3.destroy();
  await Promise.all([pools.end(), tokenPool.end()]);
});

describe('bot delete', () => {
  const path = () => `/tenants/${tenantA.tenantId}/bots/${tenantA.botId}`;

  it('reports on a dry run every row and object it would remove, and removes nothing', async () => {
    const before = await rowsOfBot(tenantA, tenantA.botId);
    const { status, json } = await api.call('DELETE', `${path()}?dryRun=true`, tokenA);
    expect(status).toBe(200);
    expect(json).toMatchObject({
      botId: tenantA.botId, dryRun: true, objectsNotDeleted: [],
      rows: {
        bots: 1, bot_features: 1, bot_images: 1, products: 1, scoring_rules: 1, schedules: 1, schedule_follow_ups: 1, dead_letters: 1,
        lead_identity_pairings: 1, leads: 1, lead_messages: 2, lead_stage_events: 1, lead_events: 1, email_enrollments: 1, email_deliveries: 1,
      },
      objects: { count: 2, keys: [imageKey, mediaKey].sort() },
    });
    expect(await rowsOfBot(tenantA, tenantA.botId)).toEqual(before);
    expect(await exists(mediaKey)).toBe(true);
  });

  it('refuses to delete an active bot with leads (409), and another tenant\'s bot is 404', async () => {
    const refused = await api.call('DELETE', path(), tokenA);
    expect(refused.status).toBe(409);
    expect(refused.json.detail).toMatch(/1 leads and is active: archive it first/);
    expect((await rowsOfBot(tenantA, tenantA.botId)).bots).toBe(1);
    for (const query of ['', '?dryRun=true']) {
      expect((await api.call('DELETE', `/tenants/${tenantB.tenantId}/bots/${tenantB.botId}${query}`, tokenA)).status).toBe(404);
      expect((await api.call('DELETE', `/tenants/${tenantA.tenantId}/bots/${tenantB.botId}${query}`, tokenA)).status).toBe(404);
    }
    expect((await api.call('DELETE', `${path()}?dryRun=yes`, tokenA)).status).toBe(400);
    expect((await rowsOfBot(tenantB, tenantB.botId)).bots).toBe(1);
  });

  it('deletes an archived bot with its leads and objects, exactly as the dry run said, and audits it', async () => {
    expect((await api.call('POST', `${path()}/archive`, tokenA)).status).toBe(200);
    const dryRun = await api.call('DELETE', `${path()}?dryRun=true`, tokenA);
    const { status, json } = await api.call('DELETE', path(), tokenA);
    expect(status).toBe(200);
    expect(json).toEqual({ ...dryRun.json, dryRun: false });
    expect(await rowsOfBot(tenantA, tenantA.botId)).toEqual({ bots: 0, leads: 0, lead_messages: 0, products: 0 });
    expect([await exists(mediaKey), await exists(imageKey)]).toEqual([false, false]);
    expect(await rowsOfBot(tenantA, otherBotId)).toMatchObject({ bots: 1, leads: 1 });
    const audit = await withTenant(tenantA.tenantId, (tx) => tx.one(sql.unsafe`
      SELECT actor, details FROM audit_logs WHERE tenant_id = ${tenantA.tenantId} AND action = 'bot.deleted'`));
    expect(audit).toMatchObject({ actor: expect.stringMatching(/^api:/), details: { botId: tenantA.botId, objects: 2, rows: { leads: 1, lead_messages: 2 } } });
    expect((await api.call('DELETE', path(), tokenA)).status).toBe(404);
  });
});
