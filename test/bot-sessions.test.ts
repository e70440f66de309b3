// A bot's WhatsApp session through the API, against a real bot pod process on the simulator
// transport, the platform worker, Temporal and Postgres: pairing by code, logout (the credential
// files leave the volume, and a restarted pod still needs a new pairing), restart of the
// connection, the connection history with reasons, another tenant's bot, the audit rows, and a
// tenant whose pod is down answered with a 503 in seconds.
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Client } from '@temporalio/client';
import { pino } from 'pino';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { createApp } from '../api/app.ts';
import { issueToken } from '../api/token-store.ts';
import { loadConfig } from '../core/config.ts';
import { createDatabasePools, createTokenAdminPool, type DatabasePools } from '../core/db/pools.ts';
import { createWithTenant, type WithTenant } from '../core/db/with-tenant.ts';
import { createObjectStoreClient } from '../core/object-store.ts';
import { connectTemporalClient } from '../core/temporal/client.ts';
import { startBotPod, type BotPodHandle } from './support/bot-pod.ts';
import { processGroup } from './support/processes.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

const config = loadConfig();
const s3 = createObjectStoreClient(config.s3);
const processes = processGroup();
let pools: DatabasePools;
let tokenPool: DatabasePool;
let withTenant: WithTenant;
let temporal: Client;
let api: ReturnType<typeof createApp>;
let base: string;
let tenant: TenantGraph;
/** A tenant whose bot pod is not running. */
let podless: TenantGraph;
let pod: BotPodHandle;
let token: string;
let tokenId: string;
let platformToken: string;
/** Before the pod started: its history is what came after. */
let podStartedAt: string;

beforeAll(async () => {
  temporal = await connectTemporalClient(config.temporal);
  pools = await createDatabasePools(config.database);
  tokenPool = await createTokenAdminPool(config.database);
  withTenant = createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 });
  [tenant, podless] = [await seedTenant(withTenant), await seedTenant(withTenant)];
  const issued = (await issueToken(tokenPool, { tenantId: tenant.tenantId, name: 'sessions', expiresAt: null, actor: 'test' }))!;
  [token, tokenId] = [issued.token, issued.id];
  platformToken = (await issueToken(tokenPool, { tenantId: null, name: 'sessions-platform', expiresAt: null, actor: 'test' }))!.token;
  api = createApp({
    config, pools, tokenPool, withTenant, logger: pino({ level: 'silent' }), s3,
    temporalHealthy: async () => true, temporal: async () => temporal,
  });
  const server = await api.start(0, '127.0.0.1');
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  await processes.start(['worker/main.ts'], { readyText: 'worker started' });
  podStartedAt = new Date().toISOString();
  pod = await startBotPod(processes, tenant.tenantId);
}, 90_000);
afterAll(async () => {
  await api.stop();
  await processes.stopAll();
  await temporal.connection.close();
  s3.destroy();
  await Promise.all([pools.end(), tokenPool.end()]);
});

const call = async (method: string, path: string, body?: unknown, bearer = token) => {
  const response = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${bearer}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, type: response.headers.get('content-type') ?? '', retryAfter: response.headers.get('retry-after'), json: text ? JSON.parse(text) as Record<string, unknown> : null };
};
const botPath = (graph: TenantGraph = tenant, botId = graph.botId) => `/tenants/${graph.tenantId}/bots/${botId}`;

const stateOf = async () => (await call('GET', `${botPath()}/status`)).json?.state;
const waitForState = async (state: string, timeoutMs = 15_000) => {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(100)) if (await stateOf() === state) return;
  throw new Error(`bot not ${state} within ${timeoutMs} ms (it is ${String(await stateOf())})`);
};

type HistoryItem = { id: string; kind: string; reason: string | null; statusCode: number | null; occurredAt: string };
/** Every page, newest first. */
const history = async (): Promise<HistoryItem[]> => {
  const items: HistoryItem[] = [];
  for (let cursor: string | null = null, first = true; first || cursor; first = false) {
    const page = await call('GET', `${botPath()}/session/history?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
    expect(page.status).toBe(200);
    items.push(...page.json!.items as HistoryItem[]);
    cursor = page.json!.nextCursor as string | null;
  }
  return items;
};
/** The latest events since `since` (an occurredAt), oldest first, once they end with `kinds` in that order. */
const historyAfter = async (since: string, kinds: string[], timeoutMs = 15_000): Promise<HistoryItem[]> => {
  let seen: HistoryItem[] = [];
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(200)) {
    seen = (await history()).filter((item) => item.occurredAt > since).reverse().slice(-kinds.length);
    if (JSON.stringify(seen.map((item) => item.kind)) === JSON.stringify(kinds)) return seen;
  }
  throw new Error(`history after ${since} is ${JSON.stringify(seen.map((item) => item.kind))}, not ${JSON.stringify(kinds)}`);
};
const sessionFiles = () => {
  const dir = join(pod.dataDir, 'sessions', tenant.botId);
  return existsSync(dir) ? readdirSync(dir).sort() : [];
};
const lastOccurred = async () => (await history())[0]?.occurredAt ?? '';

describe('bot sessions through the API', () => {
  it('records the connection history reported by the pod: connecting, then open', async () => {
    const kinds = (await historyAfter(podStartedAt, ['connecting', 'open'])).map((item) => [item.kind, item.reason, item.statusCode]);
    expect(kinds).toEqual([['connecting', null, null], ['open', null, null]]);
  });

  it('logs out: the credentials leave the volume, and neither a restart nor a new pod reconnects without pairing', async () => {
    // First a pairing by code, so the volume holds a real session.
    let since = await lastOccurred();
    expect((await call('POST', `${botPath()}/session/logout`)).json).toEqual({ botId: tenant.botId, state: 'needs_pairing' });
    await historyAfter(since, ['logged_out']);
    since = await lastOccurred();
    expect((await call('POST', `${botPath()}/session/pairing-code`, { phoneE164: '5511999990000' })).status).toBe(400);
    const pairing = await call('POST', `${botPath()}/session/pairing-code`, { phoneE164: '+5511999990000' });
    expect(pairing.status).toBe(200);
    expect(pairing.json).toEqual({ botId: tenant.botId, code: expect.stringMatching(/^[1-9A-Z]{8}$/) });
    await waitForState('open');
    const paired = await historyAfter(since, ['pairing', 'close', 'connecting', 'open']);
    expect(paired.map((item) => [item.kind, item.reason, item.statusCode])).toEqual([
      ['pairing', 'pairing code requested', null], ['close', 'Stream Errored (restart required)', 515], ['connecting', null, null], ['open', null, null],
    ]);
    expect(sessionFiles()).toEqual(['creds.json', 'session-5511999990000.0.json']);
    expect(JSON.parse(readFileSync(join(pod.dataDir, 'sessions', tenant.botId, 'creds.json'), 'utf8')).me).toEqual({ id: '5511999990000:1@s.whatsapp.net' });
    // A paired bot is not asked for a code again: a conflict that says why.
    const again = await call('POST', `${botPath()}/session/pairing-code`, { phoneE164: '+5511999990000' });
    expect([again.status, again.type, again.json?.detail]).toEqual([409, expect.stringContaining('application/problem+json'), expect.stringMatching(/not waiting for pairing \(open\)/)]);

    since = await lastOccurred();
    expect((await call('POST', `${botPath()}/session/logout`)).status).toBe(200);
    expect(sessionFiles()).toEqual([]);
    expect(await stateOf()).toBe('needs_pairing');
    expect((await historyAfter(since, ['logged_out']))[0]!.reason).toBe('logout requested through the API');

    expect((await call('POST', `${botPath()}/session/restart`)).status).toBe(200);
    expect(await stateOf()).toBe('needs_pairing');
    pod.child.kill('SIGTERM');
    await once(pod.child, 'exit');
    pod = await startBotPod(processes, tenant.tenantId, { dataDir: pod.dataDir });
    await waitForState('needs_pairing');
    expect(sessionFiles()).toEqual([]);
    // The stopping pod reported its last change, and the new one its start.
    expect((await historyAfter(since, ['close', 'connecting', 'pairing', 'close', 'connecting', 'pairing'])).map((item) => item.reason)).toEqual([
      'restart requested through the API', null, 'waiting for a pairing code',
      'connection closed by the bot pod (stopping, or the bot is no longer active)', null, 'waiting for a pairing code',
    ]);

    // Paired again, for the tests that follow.
    expect((await call('POST', `${botPath()}/session/pairing-code`, { phoneE164: '+5511999990000' })).status).toBe(200);
    await waitForState('open');
  }, 120_000);

  it('restarts the bot\'s connection with the stored credentials: closed with its reason, then open again', async () => {
    const since = await lastOccurred();
    expect((await call('POST', `${botPath()}/session/restart`)).json).toEqual({ botId: tenant.botId, restarted: true });
    await waitForState('open');
    const restarted = await historyAfter(since, ['close', 'connecting', 'open']);
    expect(restarted[0]).toMatchObject({ kind: 'close', reason: 'restart requested through the API', statusCode: null });
    expect(sessionFiles()).toEqual(['creds.json', 'session-5511999990000.0.json']);
  });

  it('pages the history newest first without repeating or skipping an event', async () => {
    const all = await history();
    expect(all.length).toBeGreaterThan(10);
    expect(new Set(all.map((item) => item.id)).size).toBe(all.length);
    expect([...all].sort((a, b) => b.occurredAt.localeCompare(a.occurredAt))).toEqual(all);
    const bad = await call('GET', `${botPath()}/session/history?cursor=not-a-cursor`);
    expect([bad.status, bad.type]).toEqual([400, expect.stringContaining('application/problem+json')]);
  });

  it('answers 404 for another tenant\'s bot on every session route, and changes nothing there', async () => {
    const routes = [['POST', 'session/pairing-code', { phoneE164: '+5511999990000' }], ['POST', 'session/logout'], ['POST', 'session/restart'], ['GET', 'session/history']] as const;
    for (const [method, route, body] of routes) {
      // Another tenant's path, and this tenant's path with another tenant's bot.
      for (const [path, detail] of [[`${botPath(podless)}/${route}`, 'no such tenant'], [`${botPath(tenant, podless.botId)}/${route}`, 'no such bot']]) {
        const response = await call(method, path!, body);
        expect([path, response.status, response.type, response.json?.detail]).toEqual([path, 404, expect.stringContaining('application/problem+json'), detail]);
      }
    }
  });

  it('answers 503 with a readable problem within seconds when the tenant\'s bot pod is down', async () => {
    for (const [route, body] of [['session/restart'], ['session/logout'], ['session/pairing-code', { phoneE164: '+5511999990000' }]] as const) {
      const started = performance.now();
      const response = await call('POST', `${botPath(podless)}/${route}`, body, platformToken);
      const elapsedMs = performance.now() - started;
      expect([response.status, response.type, response.retryAfter, response.json?.title]).toEqual([503, expect.stringContaining('application/problem+json'), '2', 'Bot pod unavailable']);
      expect(response.json?.detail).toMatch(/did not take the command in time: it is down/);
      expect(elapsedMs).toBeLessThan(10_000);
    }
    // Nothing was done, so nothing is audited.
    const audited = await withTenant(podless.tenantId, (tx) => tx.anyFirst(sql.type(z.object({ action: z.string() }))`
      SELECT action FROM audit_logs WHERE tenant_id = ${podless.tenantId} AND action LIKE 'bot.session.%'`));
    expect(audited).toEqual([]);
  });

  it('audits every session command with its actor and bot', async () => {
    const rows = await withTenant(tenant.tenantId, (tx) => tx.any(sql.type(z.object({ actor: z.string(), action: z.string(), details: z.unknown() }))`
      SELECT actor, action, details FROM audit_logs WHERE tenant_id = ${tenant.tenantId} AND action LIKE 'bot.session.%' ORDER BY created_at, id`));
    const details = { botId: tenant.botId };
    const actor = `api:${tokenId}`;
    expect(rows).toEqual([
      { actor, action: 'bot.session.logout', details }, { actor, action: 'bot.session.pairing_code', details }, { actor, action: 'bot.session.logout', details },
      { actor, action: 'bot.session.restart', details }, { actor, action: 'bot.session.pairing_code', details }, { actor, action: 'bot.session.restart', details },
    ]);
  });
});
