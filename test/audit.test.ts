// The readable audit trail through the API: a tenant's actions and row changes merged newest first,
// filtered and paged; every tenant's for platform admins; another tenant's 404; bad filters 400; and
// secrets planted in row images and details (webhook secrets, token hashes, sealed SMTP passwords,
// salts, encryption keys, API tokens in text) never in any answer, and webhook secrets no longer stored.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql, type DatabasePool } from 'slonik';
import { issueToken } from '../api/token-store.ts';
import { generateToken } from '../api/tokens.ts';
import { isSecretKey, redactSecrets } from '../core/audit/redact.ts';
import { loadConfig } from '../core/config.ts';
import { createDatabasePools, createTokenAdminPool, type DatabasePools } from '../core/db/pools.ts';
import { createWithTenant, type WithTenant } from '../core/db/with-tenant.ts';
import { startEmailApi } from './support/email-api.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

const config = loadConfig();
let pools: DatabasePools;
let tokenPool: DatabasePool;
let withTenant: WithTenant;
let tenantA: TenantGraph;
let tenantB: TenantGraph;
let api: Awaited<ReturnType<typeof startEmailApi>>;
const tokens = { a: '', b: '', platform: '' };

/** Secrets planted in the trail: none may appear in any answer. */
const SECRETS = {
  webhook: `whsec-${randomUUID()}-${randomUUID()}`,
  tokenHash: `\\x${'ab'.repeat(32)}`,
  sealed: `\\x${'cd'.repeat(40)}`,
  salt: 'f'.repeat(32),
  encryptionKey: `key-${randomUUID()}`,
  apiToken: generateToken(),
  nested: `nested-${randomUUID()}`,
};

type Entry = { id: string; source: string; tenantId: string | null; at: string; actor: string; action: string; table: string | null;
  recordId: string | null; operation: string | null; details: Record<string, unknown> | null; before: Record<string, unknown> | null; after: Record<string, unknown> | null };
type Page = { items: Entry[]; nextCursor: string | null; title?: string; detail?: string };

const get = async (path: string, token: string) => {
  const { status, json } = await api.call('GET', path, token);
  return { status, page: json as unknown as Page };
};
/** Every entry of a listing, page after page. */
const everything = async (path: string, token: string, limit = 7) => {
  const items: Entry[] = [];
  let cursor: string | null = null;
  do {
    const separator = path.includes('?') ? '&' : '?';
    const { status, page } = await get(`${path}${separator}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, token);
    expect(status).toBe(200);
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
};

beforeAll(async () => {
  pools = await createDatabasePools(config.database);
  tokenPool = await createTokenAdminPool(config.database);
  withTenant = createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 });
  [tenantA, tenantB] = [await seedTenant(withTenant), await seedTenant(withTenant)];
  api = await startEmailApi(config, { pools, tokenPool, withTenant });
  [tokens.a, tokens.b] = [await api.tokenFor(tenantA.tenantId), await api.tokenFor(tenantB.tenantId)];
  tokens.platform = (await issueToken(tokenPool, { tenantId: null, name: 'audit-test', expiresAt: null, actor: 'test' }))!.token;
  const { tenantId } = tenantA;
  await withTenant(tenantId, async (tx) => {
    // A webhook whose secret the trigger copies into the row images, then rotated (before and after both hold one).
    await tx.query(sql.unsafe`INSERT INTO owner_webhooks (tenant_id, url, secret, active) VALUES (${tenantId}, 'https://example.com/a', ${SECRETS.webhook}, true)`);
    await tx.query(sql.unsafe`UPDATE owner_webhooks SET secret = ${`${SECRETS.webhook}-2`} WHERE tenant_id = ${tenantId} AND url = 'https://example.com/a'`);
    // Row images as other tables' triggers might write them: a token hash, a sealed SMTP password.
    await tx.query(sql.unsafe`
      INSERT INTO data_change_audit (tenant_id, table_name, record_id, operation, old_values, new_values, changed_by) VALUES
        (${tenantId}, 'api_tokens', ${randomUUID()}, 'INSERT', NULL, ${sql.jsonb({ name: 'ci', token_hash: SECRETS.tokenHash })}, 'test'),
        (${tenantId}, 'email_smtp_settings', ${randomUUID()}, 'UPDATE', ${sql.jsonb({ host: 'smtp.example', password_sealed: SECRETS.sealed })},
         ${sql.jsonb({ host: 'smtp.example', password_sealed: `${SECRETS.sealed}00`, password_key_id: 'k1' })}, 'test')`);
    await tx.query(sql.unsafe`
      INSERT INTO audit_logs (tenant_id, actor, action, details) VALUES
        (${tenantId}, 'test', 'email.smtp_settings_set', ${sql.jsonb({ host: 'smtp.example', password: 'changed' })}),
        (${tenantId}, 'test', 'data-subject.exported', ${sql.jsonb({ subjectHash: 'e'.repeat(64), salt: SECRETS.salt })}),
        (${tenantId}, 'test', 'settings.keys', ${sql.jsonb({ encryptionKey: SECRETS.encryptionKey, hooks: [{ url: 'https://x.example', signingSecret: SECRETS.nested }] })}),
        (${tenantId}, 'test', 'note.pasted', ${sql.jsonb({ note: `the token was ${SECRETS.apiToken}, rotate it`, leadId: tenantA.leadId })})`);
  }, { actor: 'audit-test' });
});
afterAll(async () => {
  // The planted token hash must not outlive this file: test/tenant-isolation.test.ts proves no trigger writes one.
  await pools.maintenance.query(sql.unsafe`
    DELETE FROM data_change_audit WHERE tenant_id = ${tenantA.tenantId} AND table_name = 'api_tokens' AND new_values ? 'token_hash'`);
  await api.stop();
  await Promise.all([pools.end(), tokenPool.end()]);
});

describe('audit trail: reading', () => {
  it('merges a tenant\'s actions and row changes newest first, paged without a repeat or a gap, with before and after', async () => {
    const items = await everything(`/tenants/${tenantA.tenantId}/audit`, tokens.a);
    const counts = await withTenant(tenantA.tenantId, async (tx) => ({
      actions: await tx.oneFirst(sql.unsafe`SELECT count(*)::int FROM audit_logs WHERE tenant_id = ${tenantA.tenantId}`) as number,
      changes: await tx.oneFirst(sql.unsafe`SELECT count(*)::int FROM data_change_audit WHERE tenant_id = ${tenantA.tenantId}`) as number,
    }));
    expect(items.filter((item) => item.source === 'audit_logs')).toHaveLength(counts.actions);
    expect(items.filter((item) => item.source === 'data_change_audit')).toHaveLength(counts.changes);
    expect(new Set(items.map((item) => item.id)).size).toBe(items.length);
    const times = items.map((item) => Date.parse(item.at));
    expect(times).toEqual([...times].sort((x, y) => y - x));
    expect(items.every((item) => item.tenantId === tenantA.tenantId)).toBe(true);
    const rotation = items.find((item) => item.table === 'owner_webhooks' && item.operation === 'UPDATE')!;
    expect(rotation).toMatchObject({ action: 'owner_webhooks.update', actor: 'audit-test', before: { url: 'https://example.com/a' }, after: { url: 'https://example.com/a' } });
    const lead = items.find((item) => item.table === 'leads' && item.recordId === tenantA.leadId)!;
    expect(lead).toMatchObject({ operation: 'INSERT', before: null, after: { id: tenantA.leadId, wa_id: tenantA.waId } });
  });

  it('filters by actor, action prefix, table, record id and time range', async () => {
    const path = `/tenants/${tenantA.tenantId}/audit`;
    const byActor = await everything(`${path}?actor=audit-test`, tokens.a);
    expect(byActor.length).toBeGreaterThanOrEqual(2);
    expect(byActor.every((item) => item.actor === 'audit-test')).toBe(true);
    const byAction = await everything(`${path}?action=email.`, tokens.a);
    expect(byAction.map((item) => item.action)).toEqual(['email.smtp_settings_set']);
    const byChangeAction = await everything(`${path}?action=owner_webhooks.update`, tokens.a);
    expect(byChangeAction.map((item) => item.operation)).toEqual(['UPDATE']);
    const byTable = await everything(`${path}?table=owner_webhooks`, tokens.a);
    expect(byTable.length).toBeGreaterThanOrEqual(3); // the fixture's webhook, this test's, its rotation
    expect(byTable.every((item) => item.table === 'owner_webhooks' && item.source === 'data_change_audit')).toBe(true);
    // A record: its row changes, and the actions whose details name it.
    const byRecord = await everything(`${path}?recordId=${tenantA.leadId}`, tokens.a);
    expect(byRecord.filter((item) => item.source === 'data_change_audit').every((item) => item.recordId === tenantA.leadId)).toBe(true);
    expect(byRecord.map((item) => item.action)).toEqual(expect.arrayContaining(['leads.insert', 'note.pasted']));
    const all = await everything(path, tokens.a);
    const middle = all[Math.floor(all.length / 2)]!.at;
    const before = await everything(`${path}?to=${encodeURIComponent(middle)}`, tokens.a);
    const after = await everything(`${path}?from=${encodeURIComponent(middle)}`, tokens.a);
    expect(before.length + after.length).toBe(all.length);
    expect(before.every((item) => item.at < middle) && after.every((item) => item.at >= middle)).toBe(true);
  });

  it('gives platform admins every tenant\'s entries (one tenant on request), and tenant tokens only their own', async () => {
    const platformA = await everything(`/audit?tenantId=${tenantA.tenantId}`, tokens.platform, 50);
    const tenantView = await everything(`/tenants/${tenantA.tenantId}/audit`, tokens.a, 50);
    expect(platformA.map((item) => item.id)).toEqual(tenantView.map((item) => item.id));
    const { status, page } = await get('/audit?limit=100', tokens.platform);
    expect(status).toBe(200);
    expect(page.items.length).toBeGreaterThan(0);
    expect((await get('/audit', tokens.a)).status).toBe(403);
    // Another tenant's trail does not exist for this token.
    expect((await get(`/tenants/${tenantB.tenantId}/audit`, tokens.a)).status).toBe(404);
    const own = await everything(`/tenants/${tenantB.tenantId}/audit`, tokens.b);
    expect(own.length).toBeGreaterThan(0);
    expect(own.every((item) => item.tenantId === tenantB.tenantId)).toBe(true);
  });

  it.each([
    ['an action that is no action', 'action=Bad%20Action'],
    ['a table that is no table name', 'table=leads;drop'],
    ['a record id that is no uuid', 'recordId=42'],
    ['a time that is no time', 'from=yesterday'],
    ['a time Postgres cannot store', 'to=0000-01-01T00:00:00Z'],
    ['a range that ends before it starts', 'from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z'],
    ['a cursor this API did not return', 'cursor=abc'],
    ['a limit out of range', 'limit=1000'],
    ['an unknown filter', 'colour=red'],
    ['an actor with a NUL', 'actor=a%00b'],
  ])('refuses %s with a 400 problem document', async (_name, query) => {
    const { status, page } = await get(`/tenants/${tenantA.tenantId}/audit?${query}`, tokens.a);
    expect(status).toBe(400);
    expect(page.title).toBeTruthy();
  });

  it('takes a time with any offset ISO 8601 allows, beyond the ±15:59 Postgres reads', async () => {
    const { status, page } = await get(`/tenants/${tenantA.tenantId}/audit?from=${encodeURIComponent('2020-09-06T00:52:40.940273-17:30')}`, tokens.a);
    expect([status, (page.items as unknown[]).length > 0]).toEqual([200, true]);
  });
});

describe('audit trail: secrets', () => {
  it('never shows a secret, in row images or in details, to tenants or to platform admins', async () => {
    const answers = JSON.stringify([
      await everything(`/tenants/${tenantA.tenantId}/audit`, tokens.a, 100),
      await everything(`/audit?tenantId=${tenantA.tenantId}`, tokens.platform, 100),
    ]);
    for (const [name, secret] of Object.entries(SECRETS)) expect({ name, shown: answers.includes(secret) }).toEqual({ name, shown: false });
    // The fixture's webhook secret too.
    expect(answers.includes('s'.repeat(32))).toBe(false);
    const items = await everything(`/tenants/${tenantA.tenantId}/audit`, tokens.a, 100);
    // Stored row images no longer hold a webhook secret at all (migration 031), as token hashes (012).
    const rotation = items.find((item) => item.action === 'owner_webhooks.update')!;
    expect([rotation.before, rotation.after]).toEqual([expect.not.objectContaining({ secret: expect.anything() }), expect.not.objectContaining({ secret: expect.anything() })]);
    const stored = await pools.maintenance.oneFirst(sql.unsafe`
      SELECT count(*)::int FROM data_change_audit WHERE table_name = 'owner_webhooks' AND (old_values ? 'secret' OR new_values ? 'secret')`);
    expect(stored).toBe(0);
    // What is not secret stays readable: the marker of a password change, ids, a text around a token.
    expect(items.find((item) => item.action === 'email.smtp_settings_set')!.details).toEqual({ host: 'smtp.example', password: 'changed' });
    expect(items.find((item) => item.action === 'note.pasted')!.details).toEqual({ note: 'the token was [redacted], rotate it', leadId: tenantA.leadId });
  });

  it('redacts by a rule on key names: secrets out, references in', () => {
    for (const key of ['secret', 'token_hash', 'password_sealed', 'password', 'salt', 'encryptionKey', 'signingSecret', 'api_key', 'privateKey', 'authorization']) {
      expect({ key, secret: isSecretKey(key) }).toEqual({ key, secret: true });
    }
    for (const key of ['tokenId', 'object_key', 'url', 'name', 'host', 'leadId', 'addressSha256', 'wa_id']) {
      expect({ key, secret: isSecretKey(key) }).toEqual({ key, secret: false });
    }
    expect(redactSecrets({ a: [{ b: { apiKey: 'x', keep: 1 } }], password: null })).toEqual({ a: [{ b: { apiKey: '[redacted]', keep: 1 } }], password: null });
    // A table's name is a reference too: a tenant delete's row counts show how many tokens went,
    // while a secret inside rows of that table stays hidden.
    expect(redactSecrets({ counts: { rows: { api_tokens: 2, leads: 3 } } })).toEqual({ counts: { rows: { api_tokens: 2, leads: 3 } } });
    expect(redactSecrets({ api_tokens: [{ token_hash: 'x', name: 'ci' }] })).toEqual({ api_tokens: [{ token_hash: '[redacted]', name: 'ci' }] });
  });
});
