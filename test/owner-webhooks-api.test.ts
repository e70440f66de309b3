// Owner webhooks through the API, with the real worker, Temporal and Postgres and a local HTTP
// receiver: create (secret shown once), list (never the secret), disable/enable, rotate, delete,
// a test delivery, the delivery log, another tenant's ids, audit rows without secrets, and a
// webhook rotated while Temporal retries a delivery: the next attempt is signed with the new secret.
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Client } from '@temporalio/client';
import { pino } from 'pino';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { createApp } from '../api/app.ts';
import { issueToken } from '../api/token-store.ts';
import { loadConfig, type Config } from '../core/config.ts';
import { createDatabasePools, createTokenAdminPool, type DatabasePools } from '../core/db/pools.ts';
import { createWithTenant, type WithTenant } from '../core/db/with-tenant.ts';
import { createObjectStoreClient } from '../core/object-store.ts';
import { loadKeyring } from '../core/crypto/keyring.ts';
import { webhookSecretOf } from '../core/owner-notification/webhook-secret.ts';
import { verifyWebhook } from '../core/owner-notification/webhook-signature.ts';
import { connectTemporalClient } from '../core/temporal/client.ts';
import { OWNER_NOTIFICATION_WORKFLOW, ownerNotificationWorkflowId } from '../core/temporal/owner-notification.ts';
import type * as workflows from '../workflows/index.ts';
import { startHttpRecorder, type RecordedRequest } from './support/http-recorder.ts';
import { processGroup } from './support/processes.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

const config = loadConfig();
const s3 = createObjectStoreClient(config.s3);
const processes = processGroup();
let pools: DatabasePools;
let tokenPool: DatabasePool;
let withTenant: WithTenant;
let temporal: Client;
let receiver: Awaited<ReturnType<typeof startHttpRecorder>>;
let tenantA: TenantGraph;
let tenantB: TenantGraph;
let tenantC: TenantGraph;
const tokens: Record<'a' | 'b' | 'c', string> = { a: '', b: '', c: '' };
const apis: { url: string; stop: () => Promise<void> }[] = [];
let base: string;
let publicOnlyBase: string;

type Json = Record<string, unknown> & { items?: Record<string, unknown>[] };

const startApi = async (apiConfig: Config) => {
  const app = createApp({
    config: apiConfig, pools, tokenPool, withTenant, logger: pino({ level: 'silent' }), s3,
    temporalHealthy: async () => true, temporal: async () => temporal,
  });
  const server = await app.start(0, '127.0.0.1');
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  apis.push({ url, stop: () => app.stop() });
  return url;
};

const call = async (method: string, path: string, token: string, body?: unknown, at = base) => {
  const response = await fetch(`${at}/api/v1${path}`, {
    method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, text, json: JSON.parse(text) as Json };
};

const hooks = (tenant: TenantGraph) => `/tenants/${tenant.tenantId}/owner-webhooks`;
const listedIds = async (tenant: TenantGraph, token: string) => (await call('GET', hooks(tenant), token)).json.items!.map((item) => item.id);
const storedSecret = (tenant: TenantGraph, webhookId: string) => withTenant(tenant.tenantId, (tx) => tx.one(sql.type(z.object({
  row: z.string(), secret: z.string().nullable(), key_id: z.string(), sealed: z.instanceof(Buffer),
}))`SELECT row_to_json(w)::text AS row, secret, secret_key_id AS key_id, secret_sealed AS sealed FROM owner_webhooks w WHERE id = ${webhookId}`));
const keyring = () => loadKeyring(config.encryption);
const secretColumnsInTrail = (tenant: TenantGraph) => withTenant(tenant.tenantId, (tx) => tx.oneFirst(sql.type(z.object({ n: z.number() }))`
  SELECT count(*)::int AS n FROM data_change_audit WHERE tenant_id = ${tenant.tenantId} AND table_name = 'owner_webhooks'
     AND (old_values ?| ${sql.array(['secret', 'secret_key_id', 'secret_sealed'], 'text')} OR new_values ?| ${sql.array(['secret', 'secret_key_id', 'secret_sealed'], 'text')})`));
const headersOf = (request: RecordedRequest) => request.headers as Record<string, string>;
const verifies = (secret: string, request: RecordedRequest) => verifyWebhook(secret, headersOf(request), request.body, new Date());

/** A loopback port nothing listens on: a receiver that is down. */
const closedPort = () => new Promise<number>((resolve, reject) => {
  const probe = createServer().once('error', reject).listen(0, '127.0.0.1', () => {
    const { port } = probe.address() as { port: number };
    probe.close(() => resolve(port));
  });
});

beforeAll(async () => {
  pools = await createDatabasePools(config.database);
  tokenPool = await createTokenAdminPool(config.database);
  withTenant = createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 });
  temporal = await connectTemporalClient(config.temporal);
  [tenantA, tenantB, tenantC] = [await seedTenant(withTenant), await seedTenant(withTenant), await seedTenant(withTenant)];
  for (const [key, tenant] of [['a', tenantA], ['b', tenantB], ['c', tenantC]] as const) {
    tokens[key] = (await issueToken(tokenPool, { tenantId: tenant.tenantId, name: 'owner-webhooks-test', expiresAt: null, actor: 'test' }))!.token;
  }
  receiver = await startHttpRecorder((_request, response) => response.writeHead(204).end());
  // The tests' receiver is on loopback (OWNER_WEBHOOK_ALLOW_PRIVATE_NETWORKS=true); a second API applies the production rule.
  base = await startApi(config);
  publicOnlyBase = await startApi({ ...config, conversation: { ...config.conversation, ownerWebhookAllowPrivateNetworks: false } });
  await processes.start(['worker/main.ts'], { readyText: 'worker started', env: { LOG_LEVEL: 'info' } });
}, 60_000);

afterAll(async () => {
  await processes.stopAll();
  for (const api of apis) await api.stop();
  await receiver.close();
  await temporal.connection.close();
  s3.destroy();
  await Promise.all([pools.end(), tokenPool.end()]);
});

describe('owner webhooks', () => {
  it('are created with a secret shown once, listed without it, disabled, enabled, rotated and deleted', async () => {
    const created = await call('POST', hooks(tenantA), tokens.a, { url: `${receiver.url}/hooks/crud` });
    expect(created.status).toBe(201);
    expect(created.json).toEqual({
      id: expect.any(String), url: `${receiver.url}/hooks/crud`, active: true, createdAt: expect.any(String), updatedAt: expect.any(String),
      secret: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    const { id, secret } = created.json as { id: string; secret: string };

    const listed = await call('GET', hooks(tenantA), tokens.a);
    expect(listed.status).toBe(200);
    // Besides the fixture's own (disabled) webhook.
    expect(listed.json.items).toEqual([expect.objectContaining({ url: 'https://example.com/hooks/leads' }), expect.objectContaining({ id, url: `${receiver.url}/hooks/crud`, active: true })]);
    for (const item of listed.json.items!) expect(item).not.toHaveProperty('secret');
    expect(listed.text).not.toContain(secret);

    expect((await call('PATCH', `${hooks(tenantA)}/${id}`, tokens.a, { active: false })).json).toMatchObject({ id, active: false });
    expect((await call('PATCH', `${hooks(tenantA)}/${id}`, tokens.a, { active: true })).json).toMatchObject({ id, active: true });

    const rotated = await call('POST', `${hooks(tenantA)}/${id}/rotate-secret`, tokens.a);
    expect(rotated.status).toBe(200);
    expect(rotated.json).toMatchObject({ id, secret: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(rotated.json.secret).not.toBe(secret);
    // Sealed at rest: the row holds neither secret in the clear, and what it holds opens to the new one.
    const stored = await storedSecret(tenantA, id);
    expect(stored.row).not.toContain(secret);
    expect(stored.row).not.toContain(String(rotated.json.secret));
    expect(stored.secret).toBeNull();
    expect(stored.sealed.toString('latin1')).not.toContain(String(rotated.json.secret));
    expect(webhookSecretOf(keyring, { tenantId: tenantA.tenantId, webhookId: id, secret: null, secretKeyId: stored.key_id, secretSealed: stored.sealed }))
      .toBe(rotated.json.secret);

    expect((await call('DELETE', `${hooks(tenantA)}/${id}`, tokens.a)).json).toEqual({ webhookId: id, deliveriesDeleted: 0 });
    expect(await listedIds(tenantA, tokens.a)).not.toContain(id);
    expect((await call('DELETE', `${hooks(tenantA)}/${id}`, tokens.a)).status).toBe(404);

    // Audited in audit_logs (who, what), and in the data-change trail, neither ever holding a secret.
    const actions = await withTenant(tenantA.tenantId, (tx) => tx.anyFirst(sql.type(z.object({ action: z.string() }))`
      SELECT action FROM audit_logs WHERE tenant_id = ${tenantA.tenantId} AND action LIKE 'owner_webhook.%' ORDER BY created_at, id`));
    expect(actions).toEqual([
      'owner_webhook.created', 'owner_webhook.disabled', 'owner_webhook.enabled', 'owner_webhook.secret_rotated', 'owner_webhook.deleted',
    ]);
    const trail = await withTenant(tenantA.tenantId, (tx) => tx.anyFirst(sql.type(z.object({ row: z.string() }))`
      SELECT row_to_json(a)::text AS row FROM (
        SELECT actor, action, details::text AS change FROM audit_logs WHERE tenant_id = ${tenantA.tenantId}
        UNION ALL
        SELECT changed_by, operation, concat(old_values::text, new_values::text) FROM data_change_audit
         WHERE tenant_id = ${tenantA.tenantId} AND table_name = 'owner_webhooks') a`));
    expect(trail.filter((row) => row.includes(id)).length).toBeGreaterThanOrEqual(10);
    for (const row of trail) {
      expect(row).not.toContain(secret);
      expect(row).not.toContain(String(rotated.json.secret));
    }
    // Nor any secret column, sealed or plain (the trail is readable by the tenant).
    expect(await secretColumnsInTrail(tenantA)).toBe(0);
  }, 30_000);

  it('seal, on its first rotation, the plain secret of a webhook written with SQL before', async () => {
    const legacyId = String((await call('GET', hooks(tenantA), tokens.a)).json.items!.find((item) => item.url === 'https://example.com/hooks/leads')!.id);
    const rotated = await call('POST', `${hooks(tenantA)}/${legacyId}/rotate-secret`, tokens.a);
    expect(rotated.status).toBe(200);
    const stored = await storedSecret(tenantA, legacyId);
    expect(stored.secret).toBeNull();
    expect(webhookSecretOf(keyring, { tenantId: tenantA.tenantId, webhookId: legacyId, secret: null, secretKeyId: stored.key_id, secretSealed: stored.sealed }))
      .toBe(rotated.json.secret);
    expect(await secretColumnsInTrail(tenantA)).toBe(0);
    // Bound to its webhook: copied into another webhook's row, it does not open.
    expect(() => webhookSecretOf(keyring, { tenantId: tenantA.tenantId, webhookId: tenantA.userId, secret: null, secretKeyId: stored.key_id, secretSealed: stored.sealed }))
      .toThrow(/does not open/);
  });

  it('refuse invalid input with a problem that names the field, and a taken URL with 409', async () => {
    for (const url of ['ftp://example.com/x', 'not a url', 'https://user:pw@example.com/x', `https://example.com/${'a'.repeat(2048)}`, 'https://exa mple.com/']) {
      const refused = await call('POST', hooks(tenantA), tokens.a, { url });
      expect(refused.status).toBe(400);
      expect({ url, ...refused.json }).toMatchObject({ url, title: 'Invalid request', errors: [{ path: 'body.url', message: expect.any(String) }] });
    }
    expect((await call('POST', hooks(tenantA), tokens.a, {})).status).toBe(400);
    expect((await call('POST', hooks(tenantA), tokens.a, { url: 'https://example.com/x', secret: 'mine' })).status).toBe(400);
    const created = await call('POST', hooks(tenantA), tokens.a, { url: 'https://example.com/hooks/taken', active: false });
    expect(created.status).toBe(201);
    const taken = await call('POST', hooks(tenantA), tokens.a, { url: 'https://example.com/hooks/taken' });
    expect(taken.status).toBe(409);
    expect(taken.json).toMatchObject({ title: 'URL taken', detail: 'the tenant has a webhook for https://example.com/hooks/taken' });
    expect((await call('PATCH', `${hooks(tenantA)}/${String(created.json.id)}`, tokens.a, {})).status).toBe(400);
    expect((await call('PATCH', `${hooks(tenantA)}/${String(created.json.id)}`, tokens.a, { active: 'no' })).status).toBe(400);
    expect((await call('POST', `${hooks(tenantA)}/not-a-uuid/rotate-secret`, tokens.a)).status).toBe(400);
    expect((await call('GET', `${hooks(tenantA)}/${String(created.json.id)}/deliveries?cursor=x`, tokens.a)).status).toBe(400);
    await call('DELETE', `${hooks(tenantA)}/${String(created.json.id)}`, tokens.a);
  });

  it('refuse a URL whose host is private, loopback, link-local or does not resolve, as deliveries do (SSRF)', async () => {
    for (const url of ['http://127.0.0.1:8080/x', 'http://169.254.169.254/latest/meta-data', 'http://10.0.0.5/x', 'http://[::1]/x', 'http://localhost/x']) {
      const refused = await call('POST', hooks(tenantA), tokens.a, { url }, publicOnlyBase);
      expect(refused.status).toBe(422);
      expect(refused.json).toMatchObject({ title: 'Webhook URL refused', detail: expect.stringMatching(/non-public address/) });
    }
    const unresolvable = await call('POST', hooks(tenantA), tokens.a, { url: 'https://no-such-host.invalid/x' }, publicOnlyBase);
    expect(unresolvable.json).toMatchObject({ status: 422, detail: 'webhook host no-such-host.invalid does not resolve' });
    expect(await listedIds(tenantA, tokens.a)).toHaveLength(1);
  });

  it('answer 404 for another tenant\'s webhooks, and change none of them', async () => {
    const theirs = await call('POST', hooks(tenantB), tokens.b, { url: 'https://example.com/hooks/b', active: false });
    const id = String(theirs.json.id);
    const sealedBefore = (await storedSecret(tenantB, id)).sealed;
    expect((await call('GET', hooks(tenantB), tokens.a)).status).toBe(404);
    expect((await call('POST', hooks(tenantB), tokens.a, { url: 'https://example.com/hooks/a' })).status).toBe(404);
    for (const [method, suffix, body] of [
      ['PATCH', '', { active: true }], ['POST', '/rotate-secret', undefined], ['POST', '/test', undefined], ['GET', '/deliveries', undefined], ['DELETE', '', undefined],
    ] as const) {
      const answer = await call(method, `${hooks(tenantA)}/${id}${suffix}`, tokens.a, body);
      expect({ method, suffix, status: answer.status, detail: answer.json.detail }).toEqual({ method, suffix, status: 404, detail: 'no such webhook' });
      expect((await call(method, `${hooks(tenantB)}/${id}${suffix}`, tokens.a, body)).status).toBe(404);
    }
    const after = await call('GET', hooks(tenantB), tokens.b);
    expect(after.json.items).toContainEqual({ id, url: 'https://example.com/hooks/b', active: false, createdAt: theirs.json.createdAt, updatedAt: theirs.json.updatedAt });
    expect((await storedSecret(tenantB, id)).sealed).toEqual(sealedBefore);
  });

  it('send a signed webhook.test event, answering the status code and latency, or why it failed', async () => {
    receiver.requests.length = 0;
    receiver.respondWith((_request, response) => response.writeHead(204).end());
    const created = await call('POST', hooks(tenantA), tokens.a, { url: `${receiver.url}/hooks/test`, active: false });
    const { id, secret } = created.json as { id: string; secret: string };

    const tested = await call('POST', `${hooks(tenantA)}/${id}/test`, tokens.a);
    expect(tested.status).toBe(200);
    expect(tested.json).toEqual({ eventId: expect.any(String), delivered: true, statusCode: 204, latencyMs: expect.any(Number), error: null });
    expect(receiver.requests).toHaveLength(1);
    const [request] = receiver.requests;
    expect(verifies(secret, request!)).toBe(true);
    expect(headersOf(request!)['webhook-id']).toBe(tested.json.eventId);
    expect(JSON.parse(request!.body)).toMatchObject({ id: tested.json.eventId, type: 'webhook.test', tenantId: tenantA.tenantId, data: { webhookId: id } });

    receiver.respondWith((_request, response) => response.writeHead(500).end());
    const refused = await call('POST', `${hooks(tenantA)}/${id}/test`, tokens.a);
    expect(refused.json).toMatchObject({ delivered: false, statusCode: 500, error: expect.stringMatching(/answered 500 to event/) });

    const down = await call('POST', hooks(tenantA), tokens.a, { url: `http://127.0.0.1:${await closedPort()}/hooks/down` });
    const unreachable = await call('POST', `${hooks(tenantA)}/${String(down.json.id)}/test`, tokens.a);
    expect(unreachable.json).toMatchObject({ delivered: false, statusCode: null, error: expect.stringMatching(/did not answer event .*ECONNREFUSED/) });

    const log = await call('GET', `${hooks(tenantA)}/${id}/deliveries`, tokens.a);
    expect(log.json).toEqual({
      items: [
        expect.objectContaining({ eventId: refused.json.eventId, eventType: 'webhook.test', attempt: 1, statusCode: 500, outcome: 'failed', nextRetryAt: null }),
        expect.objectContaining({ eventId: tested.json.eventId, eventType: 'webhook.test', attempt: 1, statusCode: 204, outcome: 'delivered', error: null, nextRetryAt: null }),
      ],
      nextCursor: null,
    });
    const actions = await withTenant(tenantA.tenantId, (tx) => tx.anyFirst(sql.type(z.object({ details: z.string() }))`
      SELECT details::text AS details FROM audit_logs WHERE tenant_id = ${tenantA.tenantId} AND action = 'owner_webhook.tested' ORDER BY created_at, id`));
    expect(actions).toHaveLength(3);
    for (const details of actions) expect(details).not.toContain(secret);
    // Removing a webhook removes its log.
    expect((await call('DELETE', `${hooks(tenantA)}/${id}`, tokens.a)).json).toEqual({ webhookId: id, deliveriesDeleted: 2 });
    expect((await call('DELETE', `${hooks(tenantA)}/${String(down.json.id)}`, tokens.a)).json).toMatchObject({ deliveriesDeleted: 1 });
    expect(await withTenant(tenantA.tenantId, (tx) => tx.oneFirst(sql.type(z.object({ n: z.number() }))`
      SELECT count(*)::int AS n FROM owner_webhook_deliveries WHERE webhook_id = ANY(${sql.array([id, String(down.json.id)], 'uuid')})`))).toBe(0);
  }, 60_000);

  it('signs the attempt after a rotation with the new secret only, while Temporal retries a delivery; the log lists every attempt', async () => {
    receiver.requests.length = 0;
    const created = await call('POST', hooks(tenantC), tokens.c, { url: `${receiver.url}/hooks/rotated` });
    const { id: webhookId, secret: oldSecret } = created.json as { id: string; secret: string };
    let newSecret = '';
    // Attempts 1 and 2 fail; the secret is rotated through the API before attempt 2 is answered, so attempt 3 follows the rotation.
    receiver.respondWith((_request, response) => {
      const attempt = receiver.requests.length;
      if (attempt === 1) return void response.writeHead(503).end();
      if (attempt === 2) {
        void call('POST', `${hooks(tenantC)}/${webhookId}/rotate-secret`, tokens.c).then((rotated) => {
          newSecret = String(rotated.json.secret);
          response.writeHead(503).end();
        });
        return;
      }
      response.writeHead(200).end();
    });
    const eventId = await withTenant(tenantC.tenantId, (tx) => tx.oneFirst(sql.type(z.object({ id: z.uuid() }))`
      INSERT INTO lead_events (tenant_id, lead_id, kind, payload) VALUES (${tenantC.tenantId}, ${tenantC.leadId}, 'lead.qualified', '{"score": 80}') RETURNING id`));
    const result = await temporal.workflow.execute<typeof workflows.ownerNotification>(OWNER_NOTIFICATION_WORKFLOW, {
      workflowId: ownerNotificationWorkflowId(tenantC.tenantId, eventId), taskQueue: config.temporal.taskQueue, args: [{ tenantId: tenantC.tenantId, eventId }],
    });
    expect(result).toEqual({ delivered: [{ webhookId, status: 200 }], failed: [] });
    expect(receiver.requests).toHaveLength(3);
    expect(newSecret).toMatch(/^[0-9a-f]{64}$/);
    const signedWith = (request: RecordedRequest) => [verifies(oldSecret, request) && 'old', verifies(newSecret, request) && 'new'].filter(Boolean);
    expect(receiver.requests.map(signedWith)).toEqual([['old'], ['old'], ['new']]);
    expect(new Set(receiver.requests.map((request) => headersOf(request)['webhook-id']))).toEqual(new Set([eventId]));

    const log = await call('GET', `${hooks(tenantC)}/${webhookId}/deliveries?limit=2`, tokens.c);
    const rest = await call('GET', `${hooks(tenantC)}/${webhookId}/deliveries?limit=2&cursor=${String(log.json.nextCursor)}`, tokens.c);
    expect(rest.json.nextCursor).toBeNull();
    const attempts = [...log.json.items!, ...rest.json.items!] as { attempt: number; attemptedAt: string; nextRetryAt: string | null }[];
    expect(attempts).toEqual([
      expect.objectContaining({ eventId, eventType: 'lead.qualified', attempt: 3, statusCode: 200, outcome: 'delivered', error: null, nextRetryAt: null }),
      expect.objectContaining({ eventId, attempt: 2, statusCode: 503, outcome: 'retrying', error: expect.stringMatching(/answered 503/), nextRetryAt: expect.any(String) }),
      expect.objectContaining({ eventId, attempt: 1, statusCode: 503, outcome: 'retrying', nextRetryAt: expect.any(String) }),
    ]);
    // The next retry is the policy's backoff (1 s, then 2 s) after the failed attempt, and Temporal kept to it.
    const [third, second, first] = attempts.map((entry) => ({ at: Date.parse(entry.attemptedAt), next: Date.parse(entry.nextRetryAt ?? '') }));
    expect(first!.next - first!.at).toBeGreaterThanOrEqual(1_000);
    expect(first!.next - first!.at).toBeLessThan(1_500);
    expect(second!.next - second!.at).toBeGreaterThanOrEqual(2_000);
    expect(second!.next - second!.at).toBeLessThan(2_500);
    expect(Math.abs(second!.at - first!.next)).toBeLessThan(1_500);
    expect(Math.abs(third!.at - second!.next)).toBeLessThan(1_500);
  }, 60_000);
});
