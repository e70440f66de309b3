// The suppression list and the delivery history through the API: list (paged), add by hand, remove
// (the address is mailed again), each change audited by the address's digest; a lead's delivery
// history by its e-mail address. Another tenant's token and ids answer 404 and change nothing.
import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { createEmailSequenceActivities } from '../activities/email-sequences/send-step.ts';
import { loadConfig } from '../core/config.ts';
import { loadKeyring } from '../core/crypto/keyring.ts';
import { createDatabasePools, createTokenAdminPool, type DatabasePools } from '../core/db/pools.ts';
import { createWithTenant, type WithTenant } from '../core/db/with-tenant.ts';
import { startEmailApi } from './support/email-api.ts';
import { newEnrollment } from './support/email-sequences.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

const config = loadConfig();
let pools: DatabasePools;
let tokenPool: DatabasePool;
let withTenant: WithTenant;
let tenantA: TenantGraph;
let tenantB: TenantGraph;
let api: Awaited<ReturnType<typeof startEmailApi>>;
let tokenA: string;
let tokenB: string;
let activities: ReturnType<typeof createEmailSequenceActivities>;

const suppressionsOf = (tenant: TenantGraph) => `/tenants/${tenant.tenantId}/email-suppressions`;
const auditDetails = (tenantId: string, action: string) => withTenant(tenantId, (tx) => tx.anyFirst(sql.type(z.object({ details: z.string() }))`
  SELECT details::text AS details FROM audit_logs WHERE tenant_id = ${tenantId} AND action = ${action} ORDER BY created_at`));
const newLead = (tenant: TenantGraph, email: string | null) => withTenant(tenant.tenantId, (tx) => tx.oneFirst(sql.type(z.object({ id: z.uuid() }))`
  INSERT INTO leads (tenant_id, bot_id, wa_id, email) VALUES (${tenant.tenantId}, ${tenant.botId}, ${`55${Date.now()}${Math.floor(Math.random() * 1e4)}`}, ${email})
  RETURNING id`));
const send = (to: string, enrollmentId: string, step: number) => activities.sendEmailStep({
  tenantId: tenantA.tenantId, enrollmentId, step, to, subject: `Step ${step}`, text: 'Hi', html: '<p>Hi</p>',
});

beforeAll(async () => {
  pools = await createDatabasePools(config.database);
  tokenPool = await createTokenAdminPool(config.database);
  withTenant = createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 });
  [tenantA, tenantB] = [await seedTenant(withTenant), await seedTenant(withTenant)];
  api = await startEmailApi(config, { pools, tokenPool, withTenant });
  [tokenA, tokenB] = [await api.tokenFor(tenantA.tenantId), await api.tokenFor(tenantB.tenantId)];
  activities = createEmailSequenceActivities({ withTenant, email: config.email, keyring: () => loadKeyring(config.encryption), publicApiUrl: api.base });
});
afterAll(async () => {
  await api.stop();
  await Promise.all([pools.end(), tokenPool.end()]);
});

describe('the suppression list', () => {
  it('adds by hand (reason manual, lower-cased, once), lists newest first in pages, and removes: the address is mailed again', async () => {
    const addresses = [0, 1, 2].map((n) => `Manual-${n}-${randomUUID()}@Example.com`);
    const added = [];
    for (const address of addresses) {
      const response = await api.call('POST', suppressionsOf(tenantA), tokenA, { address, detail: 'asked by phone' });
      expect(response).toEqual({ status: 201, json: {
        id: expect.any(String), address: address.toLowerCase(), reason: 'manual', detail: 'asked by phone', createdAt: expect.any(String),
      } });
      added.push(response.json);
    }
    // Adding again answers the entry that stands.
    expect((await api.call('POST', suppressionsOf(tenantA), tokenA, { address: addresses[0] })).json).toEqual(added[0]);

    const first = await api.call('GET', `${suppressionsOf(tenantA)}?reason=manual&limit=2`, tokenA);
    expect(first.json.items!.map((item) => item.id)).toEqual([added[2]!.id, added[1]!.id]);
    const second = await api.call('GET', `${suppressionsOf(tenantA)}?reason=manual&limit=2&cursor=${String(first.json.nextCursor)}`, tokenA);
    expect([second.json.items!.map((item) => item.id), second.json.nextCursor]).toEqual([[added[0]!.id], null]);

    const lower = addresses[0]!.toLowerCase();
    expect((await send(lower, randomUUID(), 0)).outcome).toBe('suppressed');
    expect(await api.call('DELETE', `${suppressionsOf(tenantA)}/${String(added[0]!.id)}`, tokenA))
      .toEqual({ status: 200, json: { suppressionId: added[0]!.id, deleted: true } });
    expect((await send(lower, await newEnrollment(withTenant, tenantA, lower), 0)).outcome).toBe('sent');
    expect((await api.call('DELETE', `${suppressionsOf(tenantA)}/${String(added[0]!.id)}`, tokenA)).status).toBe(404);

    const digest = createHash('sha256').update(lower).digest('hex');
    for (const action of ['email.suppression_added', 'email.suppression_removed']) {
      const rows = await auditDetails(tenantA.tenantId, action);
      expect([action, rows.some((details) => details.includes(digest))]).toEqual([action, true]);
      for (const details of rows) expect(details).not.toMatch(/@example\.com/i);
    }
  });

  it('refuses a malformed address or cursor with a problem, and stores nothing', async () => {
    for (const body of [{ address: 'not an address' }, { address: 'a@b.example', reason: 'bounced' }, {}]) {
      expect((await api.call('POST', suppressionsOf(tenantA), tokenA, body)).status).toBe(400);
    }
    expect((await api.call('GET', `${suppressionsOf(tenantA)}?cursor=nope`, tokenA)).status).toBe(400);
  });

  it('is the tenant\'s own: another tenant\'s token, or its ids under another tenant, answer 404 and change nothing', async () => {
    const entry = (await api.call('POST', suppressionsOf(tenantA), tokenA, { address: `private-${randomUUID()}@example.com` })).json;
    expect((await api.call('GET', suppressionsOf(tenantA), tokenB)).status).toBe(404);
    expect((await api.call('POST', suppressionsOf(tenantA), tokenB, { address: 'x@example.com' })).status).toBe(404);
    expect((await api.call('DELETE', `${suppressionsOf(tenantA)}/${String(entry.id)}`, tokenB)).status).toBe(404);
    // Tenant B naming A's entry under its own path: not there.
    expect((await api.call('DELETE', `${suppressionsOf(tenantB)}/${String(entry.id)}`, tokenB)).status).toBe(404);
    const listed = await api.call('GET', `${suppressionsOf(tenantA)}?limit=100`, tokenA);
    expect(listed.json.items!.map((item) => item.id)).toContain(entry.id);
    expect((await api.call('GET', `${suppressionsOf(tenantB)}?limit=100`, tokenB)).json.items!.map((item) => item.id)).not.toContain(entry.id);
  });
});

describe('a lead\'s delivery history', () => {
  it('lists the mail sent to the lead\'s address, newest first, in pages', async () => {
    const email = `history-${randomUUID()}@example.com`;
    const leadId = await newLead(tenantA, email);
    const enrollmentId = await newEnrollment(withTenant, tenantA, email);
    const sent = [];
    // Step 1 addressed in another case: one address, one history.
    for (const step of [0, 1, 2]) sent.push(await send(step === 1 ? email.replace('history', 'History') : email, enrollmentId, step));
    const someoneElse = `someone-else-${randomUUID()}@example.com`;
    await send(someoneElse, await newEnrollment(withTenant, tenantA, someoneElse), 0);

    const path = `/tenants/${tenantA.tenantId}/leads/${leadId}/email-deliveries`;
    const first = await api.call('GET', `${path}?limit=2`, tokenA);
    expect(first.status).toBe(200);
    expect(first.json.items!.map((item) => [item.step, item.messageId, item.recipient, item.enrollmentId])).toEqual([
      [2, sent[2]!.messageId, email, enrollmentId], [1, sent[1]!.messageId, email, enrollmentId],
    ]);
    expect(first.json.items![0]).toEqual(expect.objectContaining({ smtpResponse: expect.stringMatching(/^250 /), sentAt: expect.any(String) }));
    const second = await api.call('GET', `${path}?limit=2&cursor=${String(first.json.nextCursor)}`, tokenA);
    expect([second.json.items!.map((item) => item.step), second.json.nextCursor]).toEqual([[0], null]);

    const withoutEmail = await newLead(tenantA, null);
    expect((await api.call('GET', `/tenants/${tenantA.tenantId}/leads/${withoutEmail}/email-deliveries`, tokenA)).json).toEqual({ items: [], nextCursor: null });
    expect((await api.call('GET', `/tenants/${tenantA.tenantId}/leads/${randomUUID()}/email-deliveries`, tokenA)).status).toBe(404);
  });

  it('is not readable from another tenant, by its token or under its own path', async () => {
    const leadId = await newLead(tenantA, `secret-${randomUUID()}@example.com`);
    expect((await api.call('GET', `/tenants/${tenantA.tenantId}/leads/${leadId}/email-deliveries`, tokenB)).status).toBe(404);
    expect((await api.call('GET', `/tenants/${tenantB.tenantId}/leads/${leadId}/email-deliveries`, tokenB)).status).toBe(404);
  });
});
