// One tenant, or a client without a token, cannot stall the API: bodies are read only after
// authentication, large ones only on the upload route and a few at a time, event streams are
// capped per token, text checks are linear, rules are bounded; and the smaller refusals are
// problem documents with the right status.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { pino } from 'pino';
import { createApp } from '../api/app.ts';
import { issueToken } from '../api/token-store.ts';
import { loadConfig, type Config } from '../core/config.ts';
import { createDatabasePools, createTokenAdminPool, type DatabasePools } from '../core/db/pools.ts';
import type { DatabasePool } from 'slonik';
import { createWithTenant, type WithTenant } from '../core/db/with-tenant.ts';
import { createObjectStoreClient } from '../core/object-store.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

const baseConfig = loadConfig();
const s3 = createObjectStoreClient(baseConfig.s3);
let pools: DatabasePools;
let tokenPool: DatabasePool;
let withTenant: WithTenant;
let tenantA: TenantGraph;
let tenantB: TenantGraph;
const tokens = { platform: '', tenantA: '' };
const apis: ReturnType<typeof createApp>[] = [];
const generous = { ...baseConfig.api.rateLimit, windowSeconds: 900, perIp: 100_000, perToken: 100_000, lockoutMaxSeconds: 86_400 };

const startApi = async (api: Partial<Config['api']> = {}) => {
  const instance = createApp({
    // A scope of its own: counters and lockouts of one instance (kept in the database) never reach another.
    config: { ...baseConfig, api: { ...baseConfig.api, ...api, rateLimit: { ...(api.rateLimit ?? generous), scope: randomUUID() } } }, pools, tokenPool, withTenant, logger: pino({ level: 'silent' }),
    temporalHealthy: async () => true, temporal: async () => { throw new Error('not used'); }, s3,
  });
  apis.push(instance);
  const server = await instance.start(0, '127.0.0.1');
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
};
let base: string;

const issue = async (tenantId: string | null) =>
  (await issueToken(tokenPool, { tenantId, name: 'test', expiresAt: null, actor: 'test' }))!.token;

beforeAll(async () => {
  pools = await createDatabasePools(baseConfig.database);
  tokenPool = await createTokenAdminPool(baseConfig.database);
  withTenant = createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 });
  [tenantA, tenantB] = [await seedTenant(withTenant), await seedTenant(withTenant)];
  tokens.platform = await issue(null);
  tokens.tenantA = await issue(tenantA.tenantId);
  base = await startApi();
});
afterAll(async () => {
  for (const api of apis) await api.stop();
  s3.destroy();
  await Promise.all([pools.end(), tokenPool.end()]);
});

const call = async (method: string, path: string, token: string | null, body?: unknown, headers: Record<string, string> = {}, url = base) => {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, type: response.headers.get('content-type') ?? '', headers: response.headers, json: /json/.test(response.headers.get('content-type') ?? '') ? JSON.parse(text) as Record<string, unknown> : text };
};

/** Sends the headers of a body of `declared` bytes and only `sent` of them; resolves with the response, if one comes. */
const partialUpload = (url: string, path: string, token: string | null, declared: number, sent: number) => {
  const request = httpRequest(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': String(declared), ...(token ? { authorization: `Bearer ${token}` } : {}) },
  });
  request.on('error', () => undefined);
  const response = new Promise<IncomingMessage>((resolve) => request.once('response', resolve));
  request.write(`{"contentType":"image/png","data":"${'A'.repeat(sent)}`);
  return { response, abort: () => request.destroy() };
};
const within = <T>(promise: Promise<T>, ms: number) => Promise.race([promise, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), ms))]);
const imagePath = (tenant: TenantGraph) => `/api/v1/tenants/${tenant.tenantId}/bots/${tenant.botId}/images`;

describe('bodies', () => {
  it('are not read without a token: a 13.8 MB upload is refused with 401 before its body arrives', async () => {
    const upload = partialUpload(base, imagePath(tenantA), null, 13_800_000, 64 * 1024);
    const response = await within(upload.response, 5_000);
    upload.abort();
    expect(response === 'timeout' ? 'no answer while the body was still expected' : response.statusCode).toBe(401);
  });

  it('get the large limit only on the real upload route, and a few uploads are read at once', async () => {
    // Any other path ending in /images gets the ordinary limit (it used to read 14 MB there, then answer 404).
    const unknown = await call('POST', '/api/v1/whatever/images', tokens.tenantA, { data: 'A'.repeat(200_000) });
    expect(unknown).toMatchObject({ status: 413, json: { title: 'Request body too large' } });

    const url = await startApi({ uploadsMaxConcurrent: 1 });
    const first = partialUpload(url, imagePath(tenantA), tokens.tenantA, 5_000_000, 1_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const second = await call('POST', imagePath(tenantA), tokens.tenantA, { contentType: 'image/png', data: 'iVBORw0KGgo=' }, {}, url);
    expect(second).toMatchObject({ status: 503, json: { title: 'Too many uploads' } });
    expect(second.headers.get('retry-after')).toBe('1');
    first.abort();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await call('POST', imagePath(tenantA), tokens.tenantA, { contentType: 'image/png', data: 'iVBORw0KGgo=' }, {}, url)).status).toBe(201);
  });

  it('declared in another charset than UTF-8 are refused with 415', async () => {
    const response = await call('POST', `/api/v1/tenants/${tenantA.tenantId}/users`, tokens.tenantA, '{"email":"a+AEA-b.com"}', { 'content-type': 'application/json; charset=utf-7' });
    expect(response).toMatchObject({ status: 415, json: { title: 'Unsupported charset' } });
    expect(response.type).toContain('application/problem+json');
  });

  it('of an image one byte over 10 MiB are refused with 413 before anything is stored', async () => {
    const png = Buffer.alloc(10 * 1024 * 1024 + 1);
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(png);
    const response = await call('POST', imagePath(tenantA), tokens.tenantA, { contentType: 'image/png', data: png.toString('base64') });
    expect(response).toMatchObject({ status: 413, json: { title: 'Image too large' } });
  });
});

describe('parser-level refusals', () => {
  const raw = (url: string, text: string) => new Promise<string>((resolve, reject) => {
    const { hostname, port } = new URL(url);
    const socket = connect(Number(port), hostname, () => socket.end(text));
    let answer = '';
    socket.on('data', (chunk) => { answer += chunk.toString(); });
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });

  it('are problem documents: 431 for oversized headers, 400 for a request that is not HTTP, 400 for malformed JSON', async () => {
    const oversized = await raw(base, `GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(oversized).toMatch(/^HTTP\/1\.1 431 /);
    expect(oversized).toContain('application/problem+json');
    expect(JSON.parse(oversized.slice(oversized.indexOf('\r\n\r\n') + 4))).toMatchObject({ status: 431 });
    const garbage = await raw(base, 'NOT HTTP AT ALL\r\n\r\n');
    expect(garbage).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(garbage.slice(garbage.indexOf('\r\n\r\n') + 4))).toMatchObject({ status: 400 });
    const malformed = await call('POST', `/api/v1/tenants/${tenantA.tenantId}/users`, tokens.tenantA, '{"email":');
    expect(malformed).toMatchObject({ status: 400, json: { status: 400 } });
    expect(malformed.type).toContain('application/problem+json');
  });
});

describe('event streams', () => {
  it('are capped per token: one more is 429, and closing one makes room', async () => {
    const url = await startApi({ eventStreamsPerToken: 2 });
    const open = async () => {
      const controller = new AbortController();
      const response = await fetch(`${url}/api/v1/events`, { headers: { authorization: `Bearer ${tokens.tenantA}` }, signal: controller.signal });
      if (response.status === 200) await response.body!.getReader().read();
      return { status: response.status, retryAfter: response.headers.get('retry-after'), close: () => controller.abort() };
    };
    const streams = [await open(), await open()];
    expect(streams.map((stream) => stream.status)).toEqual([200, 200]);
    const refused = await open();
    expect(refused).toMatchObject({ status: 429, retryAfter: '15' });
    streams[0]!.close();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const again = await open();
    expect(again.status).toBe(200);
    for (const stream of [streams[1]!, again]) stream.close();
  });
});

describe('text and rules that used to stall the API', () => {
  it('refuse a 99,000-character bot name with two NULs and a 150,000-character keyword at once, health answering meanwhile', async () => {
    const started = performance.now();
    const health = (async () => { await new Promise((resolve) => setTimeout(resolve, 20)); const t = performance.now(); await fetch(`${base}/health/live`); return performance.now() - t; })();
    const name = await call('POST', `/api/v1/tenants/${tenantA.tenantId}/bots`, tokens.tenantA, { name: `${'a'.repeat(99_000)}\u0000\u0000`, phoneE164: '+5511999990001' }, {}, await startApi({ bodyLimitBytes: 1024 * 1024 }));
    expect(name.status).toBe(400);
    const keyword = await call('POST', imagePath(tenantA), tokens.tenantA, { contentType: 'image/png', data: 'iVBORw0KGgo=', keywords: ['k'.repeat(150_000)] });
    expect(keyword.status).toBe(400);
    // The quadratic pattern took 8.6 s and 19.2 s, blocking the event loop; generous bounds the linear check is far below.
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(await health).toBeLessThan(3_000);
  });

  it('refuse costly scoring rules with 422 naming the rule, quickly', async () => {
    const started = performance.now();
    const response = await call('PUT', `/api/v1/tenants/${tenantA.tenantId}/bots/${tenantA.botId}/scoring-rules`, tokens.tenantA,
      { rules: Array.from({ length: 50 }, () => ({ kind: 'regex', pattern: `${'.{0,1000}'.repeat(50)}x`, weight: 1 })) });
    expect(response).toMatchObject({ status: 422, json: { ruleIndex: 0, detail: expect.stringContaining('at most 100') } });
    // Compiling the fifty rules would take about 9 s (185 ms each): refused before that.
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});

describe('smaller refusals', () => {
  it('NUL and lone surrogates in a schedule message or reply templates are 400 problems, not 500', async () => {
    const schedules = `/api/v1/tenants/${tenantA.tenantId}/bots/${tenantA.botId}/schedules`;
    for (const message of ['a\u0000b', 'oi \uD800']) {
      const response = await call('POST', schedules, tokens.tenantA, { name: 'Follow', cron: '0 9 * * 1', action: { type: 'broadcast', message } });
      expect(response).toMatchObject({ status: 400, json: { title: 'Invalid request' } });
    }
    for (const greeting of ['a\u0000b', 'oi \uDC00']) {
      const response = await call('POST', '/api/v1/tenants', tokens.platform, { name: 'T', slug: `t-${Date.now()}`, settings: { replies: { greeting } } });
      expect(response).toMatchObject({ status: 400, json: { title: 'Invalid request' } });
    }
  });

  it('listing schedules of another tenant\'s bot is 404', async () => {
    const response = await call('GET', `/api/v1/tenants/${tenantA.tenantId}/bots/${tenantB.botId}/schedules`, tokens.tenantA);
    expect(response).toMatchObject({ status: 404, json: { title: 'Not found' } });
  });

  it('the first 429 says in Retry-After how long the lockout it starts lasts', async () => {
    const url = await startApi({ rateLimit: { ...generous, windowSeconds: 10, perIp: 2, perToken: 100 } });
    for (let i = 0; i < 2; i += 1) expect((await call('GET', '/api/v1/tenants', tokens.platform, undefined, {}, url)).status).toBe(200);
    const refused = await call('GET', '/api/v1/tenants', tokens.platform, undefined, {}, url);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('20');
    const locked = await call('GET', '/api/v1/tenants', tokens.platform, undefined, {}, url);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(18);
  });
});
