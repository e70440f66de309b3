// The local pod runtime picks up what the API creates, without restarting anything: a new tenant
// gets its pod at the next look at the tenants list, and a bot added to a running pod's tenant is
// answered once the pod asks the platform again.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { sql } from 'slonik';
import { z } from 'zod';
import { loadConfig } from '../core/config.ts';
import { createDatabasePools, type DatabasePools } from '../core/db/pools.ts';
import { createWithTenant, type WithTenant } from '../core/db/with-tenant.ts';
import { createLocalPodRuntime } from '../stack/local-pod-runtime.ts';
import { listTenants, watchTenants } from '../stack/tenant-pods.ts';
import { freePort } from './support/bot-pod.ts';
import { inheritedEnvironment, processGroup } from './support/processes.ts';
import { seedTenant } from './support/tenant-fixture.ts';

const config = loadConfig();
const processes = processGroup();
const stopping = new AbortController();
const logged: string[] = [];
const runtime = createLocalPodRuntime({
  cwd: fileURLToPath(new URL('..', import.meta.url)),
  volumesDir: mkdtempSync(join(tmpdir(), 'pod-runtime-')),
  port: freePort,
  transport: () => 'simulator',
  env: inheritedEnvironment(),
  log: (message) => { logged.push(message); process.stderr.write(`[pod-runtime] ${message}\n`); },
});
let pools: DatabasePools;
let withTenant: WithTenant;
let watching: Promise<void>;

beforeAll(async () => {
  pools = await createDatabasePools(config.database);
  withTenant = createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 });
  await processes.start(['worker/main.ts']);
  // Only the tenants this test creates: the database holds those of other test files too.
  const existing = new Set((await listTenants(pools.maintenance)()).map((tenant) => tenant.tenantId));
  const newTenants = async () => (await listTenants(pools.maintenance)()).filter((tenant) => !existing.has(tenant.tenantId));
  watching = watchTenants(newTenants, runtime, { signal: stopping.signal, log: () => undefined, intervalMs: 1_000 });
}, 60_000);
afterAll(async () => {
  stopping.abort();
  await watching;
  await runtime.removeAll();
  await processes.stopAll();
  await pools.end();
});

const until = async <T>(value: () => Promise<T | null>, timeoutMs: number): Promise<T | null> => {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(200)) {
    const found = await value().catch(() => null);
    if (found !== null) return found;
  }
  return null;
};
const outbound = (tenantId: string, botId: string) => withTenant(tenantId, (tx) => tx.oneFirst(sql.type(z.object({ n: z.number() }))`
  SELECT count(*)::int AS n FROM lead_messages WHERE bot_id = ${botId} AND direction = 'outbound'`));
/** A simulated WhatsApp user writes to `botId`; resolves once the bot answered (or null). */
const answered = async (url: string, tenantId: string, botId: string, id: string, timeoutMs: number) => {
  const before = await outbound(tenantId, botId);
  return until(async () => {
    const response = await fetch(`${url}/simulator/bots/${botId}/inbound`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ key: { remoteJid: '5511912345678@s.whatsapp.net', fromMe: false, id }, message: { conversation: 'what is the price?' } }),
    });
    if (!response.ok) return null; // the pod does not run that bot yet: the user writes again
    return until(async () => (await outbound(tenantId, botId)) > before ? true : null, 20_000);
  }, timeoutMs);
};

it('runs a tenant and a bot created while it runs, answering within seconds, with no restart', async () => {
  const startedAt = Date.now();
  const tenant = await seedTenant(withTenant);
  const status = await until(async () => {
    const current = await runtime.podStatus(tenant.tenantId);
    return current.url ? current : null;
  }, 10_000);
  expect(status).toMatchObject({ phase: 'running', restarts: 0 });
  // Whoever runs `npm start` learns where to send the new tenant's simulated messages.
  expect(logged).toContainEqual(expect.stringContaining(`${tenant.tenantId} ${status!.url!} (simulator)`));
  expect(await answered(status!.url!, tenant.tenantId, tenant.botId, 'RUNTIME-1', 60_000)).toBe(true);
  process.stderr.write(`[pod-runtime] new tenant answered ${Date.now() - startedAt} ms after it was created\n`);

  const addedAt = Date.now();
  const botId = await withTenant(tenant.tenantId, (tx) => tx.oneFirst(sql.type(z.object({ id: z.uuid() }))`
    INSERT INTO bots (tenant_id, name, phone_e164) VALUES (${tenant.tenantId}, 'Second bot', '+5511999990001') RETURNING id`));
  expect(await answered(status!.url!, tenant.tenantId, botId, 'RUNTIME-2', 30_000)).toBe(true);
  process.stderr.write(`[pod-runtime] new bot answered ${Date.now() - addedAt} ms after it was created\n`);
  expect(await runtime.podStatus(tenant.tenantId)).toMatchObject({ phase: 'running', restarts: 0 });
}, 120_000);
