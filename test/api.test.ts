// The admin API in-process on a real port, with the real database: tokens and roles, tenant
// isolation from the attacker's side on every tenant route, bad input, pagination, rules, limits.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { Client } from '@temporalio/client';
import { pino } from 'pino';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { dropDatabase } from '../activities/backups/restore-database.ts';
import { createLeadActivities } from '../activities/lead-conversation/ingest.ts';
import { createScoringPool } from '../activities/scoring/pool.ts';
import { createApp } from '../api/app.ts';
import { createLockouts } from '../api/lockout.ts';
import { issueToken } from '../api/token-store.ts';
import { generateToken, hashToken } from '../api/tokens.ts';
import { createObjectStoreClient } from '../core/object-store.ts';
import { loadConfig, type Config } from '../core/config.ts';
import { createDatabasePools, createTokenAdminPool, type DatabasePools } from '../core/db/pools.ts';
import { createWithTenant, type WithTenant } from '../core/db/with-tenant.ts';
import { connectTemporalClient } from '../core/temporal/client.ts';
import { processGroup } from './support/processes.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

const baseConfig = loadConfig();
const s3 = createObjectStoreClient(baseConfig.s3);
let pools: DatabasePools;
let tokenPool: DatabasePool;
let withTenant: WithTenant;
let tenantA: TenantGraph;
let tenantB: TenantGraph;
const tokens = { platform: '', tenantA: '', revoked: '' };
let api: ReturnType<typeof createApp>;
let base: string;

let temporal: Client;
const processes = processGroup();

const startApi = async (config: Config) => {
  const instance = createApp({
    // A scope of its own: counters and lockouts of one instance (kept in the database) never reach another.
    config: { ...config, api: { ...config.api, rateLimit: { ...config.api.rateLimit, scope: randomUUID() } } }, pools, tokenPool, withTenant, logger: pino({ level: 'silent' }),
    temporalHealthy: async () => { await temporal.connection.workflowService.getSystemInfo({}); return true; },
    temporal: async () => temporal, s3,
  });
  const server = await instance.start(0, '127.0.0.1');
  return { instance, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
};

const issue = async (tenantId: string | null) =>
  (await issueToken(tokenPool, { tenantId, name: 'test', expiresAt: null, actor: 'test' }))!.token;

beforeAll(async () => {
  temporal = await connectTemporalClient(baseConfig.temporal);
  pools = await createDatabasePools(baseConfig.database);
  tokenPool = await createTokenAdminPool(baseConfig.database);
  withTenant = createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 });
  [tenantA, tenantB] = [await seedTenant(withTenant), await seedTenant(withTenant)];
  tokens.platform = await issue(null);
  tokens.tenantA = await issue(tenantA.tenantId);
  tokens.revoked = await issue(tenantA.tenantId);
  // A generous limit here; the rate-limit test starts an API of its own with the documented one.
  const started = await startApi({ ...baseConfig, api: { ...baseConfig.api, rateLimit: { ...baseConfig.api.rateLimit, windowSeconds: 900, perIp: 100_000, perToken: 100_000, lockoutMaxSeconds: 86_400 } } });
  api = started.instance;
  base = started.url;
});
afterAll(async () => {
  await api.stop();
  await processes.stopAll();
  await temporal.connection.close();
  s3.destroy();
  await Promise.all([pools.end(), tokenPool.end()]);
});

const call = async (method: string, path: string, token: string | null, body?: unknown, headers: Record<string, string> = {}) => {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, type: response.headers.get('content-type') ?? '', headers: response.headers, text, json: text && /json/.test(response.headers.get('content-type') ?? '') ? JSON.parse(text) as Record<string, unknown> : null };
};

describe('tokens', () => {
  it('refuse a missing, malformed, unknown or revoked token with 401, and keep tenant tokens off platform routes', async () => {
    for (const token of [null, 'not-a-token', generateToken()]) {
      const response = await call('GET', `/api/v1/tenants/${tenantA.tenantId}`, token);
      expect(response.status).toBe(401);
      expect(response.type).toContain('application/problem+json');
    }
    const revokedId = await pools.maintenance.oneFirst(sql.type(z.object({ id: z.uuid() }))`SELECT id FROM api_tokens WHERE token_hash = ${sql.binary(hashToken(tokens.revoked))}`);
    expect((await call('GET', `/api/v1/tenants/${tenantA.tenantId}`, tokens.revoked)).status).toBe(200);
    expect((await call('DELETE', `/api/v1/tokens/${revokedId}`, tokens.platform)).json).toEqual({ id: revokedId, revoked: true });
    expect((await call('GET', `/api/v1/tenants/${tenantA.tenantId}`, tokens.revoked)).status).toBe(401);

    expect((await call('GET', '/api/v1/tenants', tokens.tenantA)).status).toBe(403);
    expect((await call('POST', '/api/v1/tokens', tokens.tenantA, { name: 'escalate' })).status).toBe(403);
    expect((await call('POST', `/api/v1/tenants/${tenantA.tenantId}/tokens`, tokens.tenantA, { name: 'escalate' })).status).toBe(403);
  });

  it('are issued once by a platform admin and work at once; only their hash is stored', async () => {
    const issued = await call('POST', `/api/v1/tenants/${tenantA.tenantId}/tokens`, tokens.platform, { name: 'owner laptop' });
    expect(issued.status).toBe(201);
    const token = String(issued.json!.token);
    expect((await call('GET', `/api/v1/tenants/${tenantA.tenantId}/bots`, token)).status).toBe(200);
    const stored = await pools.maintenance.one(sql.type(z.object({ name: z.string(), hash: z.string() }))`
      SELECT name, encode(token_hash, 'hex') AS hash FROM api_tokens WHERE id = ${String(issued.json!.id)}`);
    expect(stored).toEqual({ name: 'owner laptop', hash: hashToken(token).toString('hex') });
  });

  it('may carry an expiry: listed with it, and refused like a revoked token once it passed', async () => {
    const expiresAt = new Date(Date.now() + 2_000).toISOString();
    const issued = await call('POST', `/api/v1/tenants/${tenantA.tenantId}/tokens`, tokens.platform, { name: 'short-lived', expiresAt });
    expect(issued.json).toMatchObject({ role: 'tenant-admin', tenantId: tenantA.tenantId, expiresAt });
    const token = String(issued.json!.token);
    expect((await call('GET', `/api/v1/tenants/${tenantA.tenantId}/bots`, token)).status).toBe(200);
    const listed = await call('GET', `/api/v1/tokens?tenantId=${tenantA.tenantId}`, tokens.platform);
    expect(listed.status).toBe(200);
    const items = listed.json!.items as Record<string, unknown>[];
    expect(items.find((item) => item.id === issued.json!.id)).toMatchObject({ name: 'short-lived', expiresAt, revokedAt: null, tenantId: tenantA.tenantId });
    expect(items.every((item) => item.tenantId === tenantA.tenantId)).toBe(true);
    expect(listed.text).not.toContain(hashToken(token).toString('hex'));
    expect(listed.text).not.toContain(token);
    // Past the expiry, even the API's authentication cache (AUTH_CACHE_MS) no longer lets it in.
    await sleep(Date.parse(expiresAt) - Date.now() + 50);
    const refused = await call('GET', `/api/v1/tenants/${tenantA.tenantId}/bots`, token);
    expect([refused.status, refused.json!.detail]).toEqual([401, 'the token is unknown, revoked or expired']);
    const past = await call('POST', '/api/v1/tokens', tokens.platform, { name: 'already expired', expiresAt: new Date(Date.now() - 1_000).toISOString() });
    expect(past.json).toMatchObject({ status: 400 });
    expect((await call('POST', '/api/v1/tokens', tokens.platform, { name: 'bad date', expiresAt: 'tomorrow' })).json).toMatchObject({ status: 400 });
  });

  it('are issued with an expiry by `npm run token:create -- --expires`, and a bad one is refused', () => {
    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    const cli = (...args: string[]) => spawnSync(process.execPath, ['api/token-cli.ts', ...args], { encoding: 'utf8', timeout: 20_000 });
    const created = cli('--name', 'cli', '--tenant', tenantA.tenantId, '--expires', expiresAt);
    expect([created.status, created.stderr]).toEqual([0, '']);
    expect(created.stdout).toContain(`tenant-admin token for ${tenantA.tenantId}, expires ${expiresAt}`);
    const refused = cli('--name', 'cli', '--expires', '2000-01-01T00:00:00Z');
    expect([refused.status, refused.stderr.split('\n')[0]]).toEqual([64, '--expires must be a future ISO 8601 date-time with an offset, such as 2027-01-31T00:00:00Z']);
  });

  it('let a platform admin create tenants, and say so when a slug is taken', async () => {
    const created = await call('POST', '/api/v1/tenants', tokens.platform, { name: 'Padaria', slug: `padaria-${Date.now()}`, settings: { timezone: 'America/Sao_Paulo' } });
    expect(created.status).toBe(201);
    const taken = await call('POST', '/api/v1/tenants', tokens.platform, { name: 'Other', slug: created.json!.slug });
    expect(taken.json).toMatchObject({ status: 409, title: 'Slug taken', detail: `a tenant with slug ${String(created.json!.slug)} exists` });
  });
});

describe('tenant isolation from the attacker\'s side', () => {
  it('answers every tenant route of tenant B to tenant A\'s admin with 403 or 404, and shows nothing of B', async () => {
    const bodies: Record<string, unknown> = {
      'post /tenants/:tenantId/bots': { name: 'intruder' },
      'put /tenants/:tenantId/bots/:botId/scoring-rules': { rules: [] },
      'post /tenants/:tenantId/tokens': { name: 'intruder' },
    };
    const secretsOfB = [tenantB.email, tenantB.waId, `tenant-${tenantB.tenantId.slice(0, 8)}`];
    const tenantRoutes = api.document.paths;
    let checked = 0;
    for (const [path, methods] of Object.entries(tenantRoutes)) {
      if (!path.includes('{tenantId}')) continue;
      for (const method of Object.keys(methods)) {
        const concrete = path.replace('{tenantId}', tenantB.tenantId).replace('{botId}', tenantB.botId).replace('{leadId}', tenantB.leadId)
          .replace('{workflowKind}', 'threshold').replace('{key}', 'some-key-123');
        const expressPath = path.replace('/api/v1', '').replace(/\{(\w+)\}/g, ':$1');
        const response = await call(method.toUpperCase(), concrete, tokens.tenantA, bodies[`${method} ${expressPath}`]);
        expect([`${method} ${path}`, [403, 404].includes(response.status)]).toEqual([`${method} ${path}`, true]);
        for (const secret of secretsOfB) expect(response.text).not.toContain(secret);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(8);
    const bots = await withTenant(tenantB.tenantId, (tx) => tx.anyFirst(sql.type(z.object({ name: z.string() }))`SELECT name FROM bots`));
    expect(bots).toEqual(['Bot']);
  });
});

describe('bad input', () => {
  it('gets a clear 4xx problem document, never a 5xx, and changes nothing', async () => {
    const fingerprint = () => pools.maintenance.one(sql.type(z.object({ tenants: z.number(), bots: z.number(), rules: z.number(), tokens: z.number() }))`
      SELECT (SELECT count(*)::int FROM tenants) AS tenants, (SELECT count(*)::int FROM bots) AS bots,
             (SELECT count(*)::int FROM scoring_rules) AS rules, (SELECT count(*)::int FROM api_tokens) AS tokens`);
    const before = await fingerprint();
    const a = `/api/v1/tenants/${tenantA.tenantId}`;
    const attempts: [string, string, unknown, Record<string, string>?][] = [
      ['GET', `${a}/leads?q=${encodeURIComponent('{"$gt": ""}')}&limit=1000`, undefined],
      ['GET', `${a}/leads?q=${'x'.repeat(101)}`, undefined],
      ['GET', `${a}/leads?cursor=not-a-cursor`, undefined],
      ['GET', `${a}/leads?unknown=1`, undefined],
      ['GET', `/api/v1/tenants/..%2f..%2fetc%2fpasswd/bots`, undefined],
      ['GET', `/api/v1/tenants/${tenantA.tenantId}'--/bots`, undefined],
      ['POST', `${a}/bots`, '{"name": "broken json"', undefined],
      ['POST', `${a}/bots`, { name: 'ok', isAdmin: true }],
      ['POST', `${a}/bots`, { name: 'x'.repeat(201) }],
      ['POST', `${a}/bots`, { name: 'ok', phoneE164: '12345\r\nX-Injected: 1' }],
      ['POST', `${a}/bots`, { name: 'big', padding: 'x'.repeat(200_000) }],
      ['POST', `${a}/bots`, 'name=form', { 'content-type': 'application/x-www-form-urlencoded' }],
      ['PUT', `${a}/bots/${tenantA.botId}/scoring-rules`, { rules: [{ kind: 'regex', pattern: '(unclosed', weight: 5 }] }],
      ['PUT', `${a}/bots/${tenantA.botId}/scoring-rules`, { rules: [{ kind: 'regex', pattern: '(a+)+$', weight: 5, tag: 'DROP TABLE' }] }],
      ['POST', '/api/v1/tenants', { name: 'T', slug: 'UPPER case' }],
    ];
    for (const [method, path, body, headers] of attempts) {
      const response = await call(method, path, tokens.platform, body, headers);
      expect([method, path.slice(0, 80), response.status >= 400 && response.status < 500]).toEqual([method, path.slice(0, 80), true]);
      expect(response.type).toContain('application/problem+json');
      expect(response.json).toMatchObject({ status: response.status, title: expect.any(String), detail: expect.any(String) });
      expect(response.text).not.toMatch(/at .*\.ts:\d+/); // no stack trace
    }
    // Text that looks like SQL is searched for as text (bound parameter), never refused nor run.
    for (const q of ["' OR 1=1; DROP TABLE leads; --", "select a plan' OR 1=1 --", '%_\\']) {
      const searched = await call('GET', `${a}/leads?q=${encodeURIComponent(q)}`, tokens.platform);
      expect([q, searched.status, searched.json!.items]).toEqual([q, 200, []]);
    }
    expect(await fingerprint()).toEqual(before);
  });

  it('names the scoring rule at fault, and stores a valid set in one transaction', async () => {
    const path = `/api/v1/tenants/${tenantA.tenantId}/bots/${tenantA.botId}/scoring-rules`;
    const refused = await call('PUT', path, tokens.tenantA, { rules: [{ kind: 'keyword', pattern: 'price', weight: 5 }, { kind: 'regex', pattern: '(unclosed', weight: 5 }] });
    expect(refused.status).toBe(422);
    expect(refused.json).toMatchObject({ ruleIndex: 1, detail: expect.stringMatching(/rule 1/) });
    const stored = await call('PUT', path, tokens.tenantA, { rules: [{ kind: 'keyword', pattern: 'preço', weight: 20, tag: 'pricing' }, { kind: 'regex', pattern: '\\d+ users', weight: 10 }] });
    expect(stored.status).toBe(200);
    expect((await call('GET', path, tokens.tenantA)).json!.items).toEqual(stored.json!.items);
    expect((stored.json!.items as unknown[]).length).toBe(2);
  });
});

describe('pipelines', () => {
  it('are created with their stages, reordered in one transaction, and leads move between stages with a history', async () => {
    const a = `/api/v1/tenants/${tenantA.tenantId}`;
    const created = await call('POST', `${a}/pipelines`, tokens.tenantA, { name: 'Enterprise', stages: [{ name: 'Lead' }, { name: 'Demo' }, { name: 'Won', isQualifiedStage: true }] });
    expect(created.status).toBe(201);
    const stages = created.json!.stages as { id: string; name: string; position: number }[];
    expect(stages.map((stage) => [stage.name, stage.position])).toEqual([['Lead', 0], ['Demo', 1], ['Won', 2]]);

    const reordered = await call('PUT', `${a}/pipelines/${String(created.json!.id)}/stage-order`, tokens.tenantA, { stageIds: stages.map((stage) => stage.id).reverse() });
    expect((reordered.json!.stages as { name: string }[]).map((stage) => stage.name)).toEqual(['Won', 'Demo', 'Lead']);
    const partial = await call('PUT', `${a}/pipelines/${String(created.json!.id)}/stage-order`, tokens.tenantA, { stageIds: [stages[0]!.id] });
    expect(partial.status).toBe(422);
    expect((await call('POST', `${a}/pipelines`, tokens.tenantA, { name: 'Enterprise', stages: [{ name: 'X' }] })).json)
      .toMatchObject({ status: 409, title: 'Name taken', detail: 'a pipeline named Enterprise exists' });

    const moved = await call('PUT', `${a}/leads/${tenantA.leadId}/stage`, tokens.tenantA, { stageId: stages[1]!.id, reason: 'demo booked' });
    expect(moved.json).toEqual({ leadId: tenantA.leadId, fromStageId: tenantA.stageIds[0], toStageId: stages[1]!.id });
    const history = await withTenant(tenantA.tenantId, (tx) => tx.oneFirst(sql.type(z.object({ reason: z.string() }))`
      SELECT reason FROM lead_stage_events WHERE lead_id = ${tenantA.leadId} ORDER BY created_at DESC LIMIT 1`));
    expect(history).toBe('demo booked');
    // A pipeline with a lead in it is not deleted; once empty it goes with its stages, its history kept.
    const inUse = await call('DELETE', `${a}/pipelines/${String(created.json!.id)}`, tokens.tenantA);
    expect(inUse.json).toMatchObject({ status: 409, leads: 1 });
    await call('PUT', `${a}/leads/${tenantA.leadId}/stage`, tokens.tenantA, { stageId: tenantA.stageIds[0] });
    expect((await call('DELETE', `${a}/pipelines/${String(created.json!.id)}`, tokens.tenantA)).json)
      .toEqual({ pipelineId: created.json!.id, deleted: { stages: 3 }, stageHistoryKept: 2 });
    // A stage of tenant B is not a stage here.
    expect((await call('PUT', `${a}/leads/${tenantA.leadId}/stage`, tokens.tenantA, { stageId: tenantB.stageIds[1] })).status).toBe(422);
  });
});

describe('catalog', () => {
  it('stores an image whose content is what it claims, refuses one that is not, and reports what a bot delete cascaded', async () => {
    const bot = await call('POST', `/api/v1/tenants/${tenantA.tenantId}/bots`, tokens.tenantA, { name: 'Catalog bot' });
    const b = `/api/v1/tenants/${tenantA.tenantId}/bots/${String(bot.json!.id)}`;
    const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(200, 7)]);
    const uploaded = await call('POST', `${b}/images`, tokens.tenantA, { contentType: 'image/png', data: png.toString('base64'), keywords: ['plano'] });
    expect(uploaded.status).toBe(201);
    expect(uploaded.json).toMatchObject({ contentType: 'image/png', sizeBytes: png.length, objectKey: expect.stringMatching(new RegExp(`^tenants/${tenantA.tenantId}/images/`)) });
    const stored = await s3.send(new GetObjectCommand({ Bucket: baseConfig.s3.bucket, Key: String(uploaded.json!.objectKey) }));
    expect(Buffer.from(await stored.Body!.transformToByteArray()).equals(png)).toBe(true);

    const script = Buffer.from('<script>alert(1)</script>');
    expect((await call('POST', `${b}/images`, tokens.tenantA, { contentType: 'image/png', data: script.toString('base64') })).status).toBe(415);
    expect((await call('POST', `${b}/images`, tokens.tenantA, { contentType: 'image/jpeg', data: png.toString('base64') })).json).toMatchObject({ status: 415, title: 'Type mismatch' });
    const oversized = Buffer.concat([png, Buffer.alloc(10 * 1024 * 1024)]).toString('base64');
    expect([400, 413]).toContain((await call('POST', `${b}/images`, tokens.tenantA, { contentType: 'image/png', data: oversized })).status);

    const product = await call('POST', `${b}/products`, tokens.tenantA, { sku: 'PRO-1', name: 'Plano Pro', price: '199.90', imageId: uploaded.json!.id });
    expect(product.json).toMatchObject({ sku: 'PRO-1', price: '199.90', currency: 'BRL', imageId: uploaded.json!.id });
    expect((await call('POST', `${b}/products`, tokens.tenantA, { sku: 'PRO-1', name: 'Again', price: '1' })).json)
      .toMatchObject({ status: 409, title: 'SKU taken', detail: 'the bot already has a product PRO-1' });
    expect((await call('GET', `${b}/products`, tokens.tenantA)).json!.items).toHaveLength(1);
    const second = await call('POST', `${b}/products`, tokens.tenantA, { sku: 'PRO-2', name: 'Plano Max', price: '299' });
    expect((await call('DELETE', `${b}/products/${String(second.json!.id)}`, tokens.tenantA)).json).toEqual({ productId: second.json!.id, deleted: true });

    const deleted = await call('DELETE', b, tokens.tenantA);
    expect(deleted.json).toMatchObject({ botId: bot.json!.id, dryRun: false, deleted: { leads: 0, messages: 0, products: 1, images: 1, scoringRules: 0, schedules: 0 } });
    expect((await call('GET', `${b}/products`, tokens.tenantA)).status).toBe(404);
    await expect(s3.send(new GetObjectCommand({ Bucket: baseConfig.s3.bucket, Key: String(uploaded.json!.objectKey) }))).rejects.toThrow();
  });
});

describe('leads', () => {
  it('pages through every lead once with the cursor, newest first', async () => {
    await withTenant(tenantA.tenantId, async (tx) => {
      for (let i = 0; i < 120; i += 1) {
        // Creation times a few microseconds apart: the cursor must not lose precision.
        await tx.query(sql.unsafe`INSERT INTO leads (tenant_id, bot_id, wa_id, created_at) VALUES (${tenantA.tenantId}, ${tenantA.botId}, ${`page-${i}`}, now() - ${`${i * 3} microseconds`}::interval)`);
      }
    });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await call('GET', `/api/v1/tenants/${tenantA.tenantId}/leads?limit=50${cursor ? `&cursor=${cursor}` : ''}`, tokens.tenantA);
      expect(page.status).toBe(200);
      seen.push(...(page.json!.items as { id: string }[]).map((lead) => lead.id));
      cursor = page.json!.nextCursor as string | null;
    } while (cursor);
    const total = await withTenant(tenantA.tenantId, (tx) => tx.oneFirst(sql.type(z.object({ n: z.number() }))`SELECT count(*)::int AS n FROM leads`));
    expect(seen).toHaveLength(total);
    expect(new Set(seen).size).toBe(total);
    const filtered = await call('GET', `/api/v1/tenants/${tenantA.tenantId}/leads?q=page-11`, tokens.tenantA);
    expect((filtered.json!.items as { waId: string }[]).map((lead) => lead.waId).sort()).toEqual(['page-11', 'page-110', 'page-111', 'page-112', 'page-113', 'page-114', 'page-115', 'page-116', 'page-117', 'page-118', 'page-119']);
  });
});

/** Reads Server-Sent Events until `count` arrived (or the timeout), then closes the connection. */
const readEvents = async (path: string, token: string, count: number, lastEventId?: string) => {
  const controller = new AbortController();
  const response = await fetch(`${base}${path}`, {
    headers: { authorization: `Bearer ${token}`, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) }, signal: controller.signal,
  });
  expect(response.headers.get('content-type')).toBe('text/event-stream');
  const events: { id: string; event: string; data: { leadId: string; type: string } }[] = [];
  const reader = response.body!.getReader();
  const timer = setTimeout(() => controller.abort(), 15_000);
  let buffer = '';
  try {
    while (events.length < count) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += Buffer.from(value).toString('utf8')
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const fields = Object.fromEntries(block.split('\n').filter((line) => !line.startsWith(':')).map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]));
        if (fields.id) events.push({ id: fields.id, event: fields.event!, data: JSON.parse(fields.data!) });
      }
    }
  } catch (error) {
    if (!controller.signal.aborted) throw error;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return events;
};

describe('events', () => {
  it('bring a lead qualified by the pipeline to a connected owner, and a reconnect with Last-Event-ID misses nothing', async () => {
    const ingest = createLeadActivities({ withTenant, chatComposerConfigured: false, scoring: createScoringPool(baseConfig.conversation.scoring) });
    const qualify = async (waId: string) => {
      let leadId = '';
      for (let i = 0; i < 7; i += 1) {
        leadId = (await ingest.ingestInbound({ tenantId: tenantA.tenantId, botId: tenantA.botId, waId, waMessageId: `${waId}-${i}`, text: 'price? preço', receivedAt: new Date().toISOString() })).leadId;
      }
      return leadId;
    };
    const listening = readEvents('/api/v1/events', tokens.tenantA, 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const first = await qualify('5511900000001');
    const [live] = await listening;
    expect(live).toMatchObject({ event: 'lead.qualified', data: { leadId: first, type: 'lead.qualified' } });

    // While the owner is away, two more leads qualify; the reconnect resumes after the last id seen.
    const missed = [await qualify('5511900000002'), await qualify('5511900000003')];
    const resumed = await readEvents('/api/v1/events', tokens.tenantA, 2, live!.id);
    expect(resumed.map((event) => event.data.leadId)).toEqual(missed);

    // Tenant B's owner sees none of it.
    const otherToken = await issue(tenantB.tenantId);
    expect(await readEvents('/api/v1/events', otherToken, 1, '0').then((events) => events.filter((event) => [first, ...missed].includes(event.data.leadId)))).toEqual([]);
    expect((await call('GET', `/api/v1/events?tenantId=${tenantB.tenantId}`, tokens.tenantA)).status).toBe(404);
  }, 60_000);
});

describe('workflows from the API', () => {
  it('start once per Idempotency-Key, report their status, and refuse a start without a key', async () => {
    await processes.start(['worker/main.ts']);
    const path = `/api/v1/tenants/${tenantA.tenantId}/bots/${tenantA.botId}/qualification-threshold`;
    expect((await call('POST', path, tokens.tenantA, { threshold: 60 })).status).toBe(400);
    const key = `threshold-${Date.now()}`;
    const first = await call('POST', path, tokens.tenantA, { threshold: 60 }, { 'idempotency-key': key });
    const again = await call('POST', path, tokens.tenantA, { threshold: 60 }, { 'idempotency-key': key });
    expect(first.status).toBe(202);
    expect(again.json).toEqual({ ...first.json, alreadyStarted: true });
    await temporal.workflow.getHandle(String(first.json!.workflowId)).result();
    const status = await call('GET', `/api/v1/tenants/${tenantA.tenantId}/workflows/threshold/${key}`, tokens.tenantA);
    expect(status.json).toMatchObject({ status: 'COMPLETED', result: { previousThreshold: 70 } });
    const threshold = await withTenant(tenantA.tenantId, (tx) => tx.oneFirst(sql.type(z.object({ t: z.number() }))`SELECT qualification_threshold AS t FROM bots WHERE id = ${tenantA.botId}`));
    expect(threshold).toBe(60);
    // Another tenant's admin cannot read it, nor start one for tenant A.
    const otherToken = await issue(tenantB.tenantId);
    expect((await call('GET', `/api/v1/tenants/${tenantA.tenantId}/workflows/threshold/${key}`, otherToken)).status).toBe(404);
    expect((await call('POST', path, otherToken, { threshold: 1 }, { 'idempotency-key': `${key}-b` })).status).toBe(404);

    // No bot pod runs for tenant A here: the status says so instead of hanging.
    const botStatus = await call('GET', `/api/v1/tenants/${tenantA.tenantId}/bots/${tenantA.botId}/status`, tokens.tenantA);
    expect(botStatus.json).toMatchObject({ botId: tenantA.botId, state: 'unreachable' });
  }, 60_000);
});

describe('users and schedules', () => {
  it('add users and schedules with checked input, and a user delete reports what it left unassigned', async () => {
    const a = `/api/v1/tenants/${tenantA.tenantId}`;
    const added = await call('POST', `${a}/users`, tokens.tenantA, { email: 'Maria@Example.COM', name: 'Maria', role: 'admin' });
    expect(added.json).toMatchObject({ email: 'maria@example.com', role: 'admin' });
    expect((await call('POST', `${a}/users`, tokens.tenantA, { email: 'MARIA@example.com' })).json)
      .toMatchObject({ status: 409, title: 'E-mail taken', detail: 'maria@example.com is already a user of this tenant' });
    expect((await call('POST', `${a}/users`, tokens.tenantA, { email: 'not-an-email' })).status).toBe(400);

    const schedules = `${a}/bots/${tenantA.botId}/schedules`;
    expect((await call('POST', schedules, tokens.tenantA, { name: 'Bad', cron: '61 * * * *', action: { type: 'follow_up' } })).status).toBe(400);
    expect((await call('POST', schedules, tokens.tenantA, { name: 'Bad', cron: '0 9 * * 1', timezone: 'Mars/Olympus', action: { type: 'follow_up' } })).status).toBe(400);
    const created = await call('POST', schedules, tokens.tenantA, { name: 'Monday follow-up', cron: '0 9 * * 1', timezone: 'America/Sao_Paulo', action: { type: 'follow_up' } });
    expect(created.json).toMatchObject({ cron: '0 9 * * 1', timezone: 'America/Sao_Paulo', action: { type: 'follow_up' }, enabled: true });
    expect((await call('DELETE', `${schedules}/${String(created.json!.id)}`, tokens.tenantA)).json).toEqual({ scheduleId: created.json!.id, deleted: true });

    // The fixture's user owns its lead, is assigned to it and created its schedule.
    const removed = await call('DELETE', `${a}/users/${tenantA.userId}`, tokens.tenantA);
    expect(removed.json).toEqual({ userId: tenantA.userId, unassigned: { leadsOwned: 1, leadsAssigned: 1, schedulesCreated: 1 } });
    const lead = await call('GET', `${a}/leads/${tenantA.leadId}`, tokens.tenantA);
    expect(lead.status).toBe(200);
  });
});

describe('lockouts', () => {
  it('double with each offence up to the ceiling, and are forgotten after a day without offence', async () => {
    let clock = 0;
    const lockouts = createLockouts(pools.app, { windowMs: 60_000, maxMs: 3_600_000, scope: randomUUID() }, () => clock);
    const strikes: number[] = [];
    for (let i = 0; i < 7; i += 1) strikes.push(await lockouts.strike('ip:1'));
    expect(strikes).toEqual([120_000, 240_000, 480_000, 960_000, 1_920_000, 3_600_000, 3_600_000]);
    expect(await lockouts.strike('ip:2')).toBe(120_000);
    clock += 24 * 60 * 60 * 1000 + 1;
    expect(await lockouts.strike('ip:1')).toBe(120_000);
  });
});

describe('rate limits and documents', () => {
  it('answer the 101st request in the window with 429 and the standard headers', async () => {
    const limited = await startApi(baseConfig);
    try {
      const get = () => fetch(`${limited.url}/api/v1/tenants/${tenantA.tenantId}`, { headers: { authorization: `Bearer ${tokens.tenantA}` } });
      const statuses: number[] = [];
      let first: Response | null = null;
      for (let i = 0; i < 100; i += 1) {
        const response = await get();
        first ??= response;
        statuses.push(response.status);
      }
      expect(statuses.every((status) => status === 200)).toBe(true);
      expect(first!.headers.get('ratelimit-policy')).toMatch(/q=100; w=900/);
      const refused = await get();
      expect(refused.status).toBe(429);
      expect(refused.headers.get('content-type')).toContain('application/problem+json');
      expect(refused.headers.get('ratelimit')).toMatch(/r=0/);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      // The offender is now locked out for two windows, even on a route it has not used.
      const locked = await fetch(`${limited.url}/api/v1/tenants/${tenantA.tenantId}/bots`, { headers: { authorization: `Bearer ${tokens.tenantA}` } });
      expect([locked.status, Number(locked.headers.get('retry-after'))]).toEqual([429, 1800]);
    } finally {
      await limited.instance.stop();
    }
  });

  it('serves an OpenAPI 3.1 document of every route, and health endpoints', async () => {
    const document = await call('GET', '/api/v1/openapi.json', null);
    expect(document.json).toMatchObject({ openapi: '3.1.0' });
    expect(Object.keys(document.json!.paths as object)).toEqual(expect.arrayContaining([
      '/api/v1/tenants', '/api/v1/tenants/{tenantId}/leads', '/api/v1/tenants/{tenantId}/bots/{botId}/scoring-rules', '/api/v1/tokens/{tokenId}',
    ]));
    // A rule's shape is in the document, though the scoring engine validates it (422 naming the rule).
    const rules = (document.json as { paths: Record<string, { put: { requestBody: { content: Record<string, { schema: unknown }> } } }> })
      .paths['/api/v1/tenants/{tenantId}/bots/{botId}/scoring-rules']!.put.requestBody.content['application/json']!.schema;
    expect(rules).toMatchObject({ properties: { rules: { items: { required: ['kind', 'pattern', 'weight'], properties: { kind: { enum: ['keyword', 'phrase', 'regex'] } } } } } });
    const page = await call('GET', '/api/v1/docs', null);
    expect([page.status, page.type.startsWith('text/html'), page.text.includes('PUT /api/v1/tenants/{tenantId}/bots/{botId}/scoring-rules')]).toEqual([200, true, true]);
    expect((await call('GET', '/health/live', null)).status).toBe(200);
    expect((await call('GET', '/health/ready', null)).json).toEqual({ database: true, temporal: true });
    const metrics = await call('GET', '/metrics', null);
    expect(metrics.text).toMatch(/api_request_duration_seconds_bucket\{[^}]*route="\/api\/v1\/tenants\/:tenantId\/leads"/);
    expect(metrics.text).toMatch(/api_workflow_starts_total\{workflow="changeQualificationThreshold",outcome="already_started"\} 1/);
    const unknown = await call('GET', '/api/v1/nothing-here', tokens.platform);
    expect([unknown.status, unknown.type.includes('problem+json')]).toEqual([404, true]);
  });
});

describe('backups from the API', () => {
  it('list, start once per Idempotency-Key, serve the manifest, restore into a new database, drill, stream platform events; platform admins only', async () => {
    await processes.start(['worker/main.ts']);
    expect((await call('GET', '/api/v1/backups', tokens.tenantA)).status).toBe(403);
    expect((await call('POST', '/api/v1/backups', tokens.platform)).status).toBe(400);
    expect((await call('GET', '/api/v1/backups/not-an-id', tokens.platform)).status).toBe(400);
    expect((await call('GET', '/api/v1/backups/20200101T000000Z-00000000', tokens.platform)).status).toBe(404);

    const events = readEvents('/api/v1/events', tokens.platform, 1);
    const key = `backup-${Date.now()}`;
    const started = await call('POST', '/api/v1/backups', tokens.platform, undefined, { 'idempotency-key': key });
    expect(started.status).toBe(202);
    expect((await call('POST', '/api/v1/backups', tokens.platform, undefined, { 'idempotency-key': key })).json).toMatchObject({ alreadyStarted: true });
    const result = await temporal.workflow.getHandle(String(started.json!.workflowId)).result() as { backupId: string; missingSessions: string[] };
    // Other tests' tenants have bots but no pod here: reported missing, the database backup still complete.
    expect(result.missingSessions).toEqual(expect.arrayContaining([tenantA.tenantId, tenantB.tenantId]));
    expect((await events)[0]).toMatchObject({ event: 'backup.completed', data: { type: 'backup.completed', data: { backupId: result.backupId } } });
    expect((await readEvents(`/api/v1/events`, tokens.tenantA, 1, '0'))
      .filter((event) => event.event.startsWith('backup'))).toEqual([]);

    const listed = await call('GET', '/api/v1/backups?status=complete', tokens.platform);
    expect((listed.json!.items as { id: string }[]).map((item) => item.id)).toContain(result.backupId);
    const manifest = await call('GET', `/api/v1/backups/${result.backupId}/manifest`, tokens.platform);
    expect(manifest.json).toMatchObject({ format: 'botinteligente-backup/1', backupId: result.backupId, database: { compression: 'zstd' } });

    const restorePath = `/api/v1/backups/${result.backupId}/restore`;
    for (const target of [{ database: 'A-B' }, { database: 'ab' }, { live: false }, { database: 'ok_name', extra: 1 }]) {
      expect((await call('POST', restorePath, tokens.platform, { target })).status).toBe(400);
    }
    const database = `api_restore_${Date.now()}`;
    expect((await call('POST', restorePath, tokens.platform, { target: { database } })).status).toBe(202);
    await temporal.workflow.getHandle(`restore/${result.backupId}`).result();
    expect((await call('GET', restorePath, tokens.platform)).json).toMatchObject({ status: 'COMPLETED', phase: 'done', result: { target: database } });
    // An ended restore is answered from its description, without querying (replaying) its history.
    const ended = await call('POST', `${restorePath}/approval`, tokens.platform);
    expect([ended.status, ended.json?.detail]).toEqual([409, `the restore of ${result.backupId} has ended (completed)`]);
    // Over the live database: it waits for an approval that the requesting token cannot give.
    expect((await call('POST', restorePath, tokens.platform, { target: { live: true } })).status).toBe(202);
    let phase = '';
    for (const deadline = Date.now() + 30_000; phase !== 'awaiting-approval' && Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 200))) {
      phase = String((await call('GET', restorePath, tokens.platform)).json?.phase);
    }
    expect(phase).toBe('awaiting-approval');
    // Meanwhile the restore holds the backup against retention.
    expect((await call('GET', `/api/v1/backups/${result.backupId}`, tokens.platform)).json)
      .toMatchObject({ heldBy: `restore/${result.backupId}`, heldUntil: expect.any(String) });
    // With no worker to answer a query, the status and the approval still answer: from the memo.
    await processes.stopAll();
    expect((await call('GET', restorePath, tokens.platform)).json).toMatchObject({ status: 'RUNNING', phase: 'awaiting-approval', approvedBy: null });
    const selfApproval = await call('POST', `${restorePath}/approval`, tokens.platform);
    expect([selfApproval.status, selfApproval.json?.detail]).toEqual([403, expect.stringMatching(/another token/)]);
    await processes.start(['worker/main.ts']);
    await temporal.workflow.getHandle(`restore/${result.backupId}`).terminate('test: never approved');
    await dropDatabase(baseConfig.database.migrationUrl, database);

    const drill = await call('POST', '/api/v1/backup-drills', tokens.platform, undefined, { 'idempotency-key': `drill-${Date.now()}` });
    expect(drill.status).toBe(202);
    await temporal.workflow.getHandle(String(drill.json!.workflowId)).result();
    const read = await call('GET', `/api/v1/backups/${result.backupId}`, tokens.platform);
    expect(read.json).toMatchObject({ status: 'complete', verifiedAt: expect.any(String), lastDrill: { passed: true } });
  }, 120_000);

  it('show a restore as verifying from its start, before a worker ran it, and refuse its approval with 409, not 503', async () => {
    // A task queue no worker polls: the run's first workflow task never completes, like one a busy worker has not taken yet.
    const idle = await startApi({ ...baseConfig, temporal: { ...baseConfig.temporal, taskQueue: `idle-${randomUUID()}` } });
    const backupId = `20261127T000000Z-${randomUUID().slice(0, 8)}`;
    await pools.maintenance.query(sql.unsafe`
      INSERT INTO backups (id, kind, status, workflow_id, completed_at, manifest_key)
      VALUES (${backupId}, 'manual', 'complete', 'test', now(), ${`backups/${backupId}/manifest.json`})`);
    const idleCall = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${idle.url}${path}`, {
        method, headers: { authorization: `Bearer ${tokens.platform}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined,
      });
      return { status: response.status, json: await response.json() as Record<string, unknown> };
    };
    const restorePath = `/api/v1/backups/${backupId}/restore`;
    try {
      expect((await idleCall('POST', restorePath, { target: { live: true } })).status).toBe(202);
      expect((await idleCall('GET', restorePath)).json).toMatchObject({ status: 'RUNNING', phase: 'verifying', approvedBy: null });
      const early = await idleCall('POST', `${restorePath}/approval`);
      expect([early.status, early.json.detail]).toEqual([409, `the restore of ${backupId} is verifying, not awaiting approval`]);
    } finally {
      await temporal.workflow.getHandle(`restore/${backupId}`).terminate('test: never ran').catch(() => undefined);
      // The catalog is shared with later test files (drills, retention, integrity): this row has no objects.
      await pools.maintenance.query(sql.unsafe`UPDATE backups SET status = 'deleted', deleted_at = now() WHERE id = ${backupId}`);
      await idle.instance.stop();
    }
  });
});
