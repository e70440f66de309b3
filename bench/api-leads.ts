// The lead list (a page of 50 out of 10,000 leads) under load on loopback, beside a bare Express
// route in the same run: maximum throughput with 10 connections, then p99 at a fixed 500 req/s.
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { sql } from 'slonik';
import { issueToken } from '../api/token-store.ts';
import type { Config } from '../core/config.ts';
import { createTokenAdminPool } from '../core/db/pools.ts';
import type { WithTenant } from '../core/db/with-tenant.ts';
import { freePort } from '../test/support/bot-pod.ts';
import type { ProcessGroup } from '../test/support/processes.ts';
import { seedTenant } from '../test/support/tenant-fixture.ts';

const SECONDS = 10;
const FIXED_RATE = 500;

const load = async (url: string, headers: Record<string, string>, overallRate?: number) => {
  const result = await autocannon({ url, headers, connections: 10, duration: SECONDS, ...(overallRate ? { overallRate } : {}) });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx and ${result.errors} errors under load`);
  return { requestsPerSecond: Math.round(result.requests.average), p50Ms: result.latency.p50, p99Ms: result.latency.p99 };
};

export const runApiLeadsBench = async (processes: ProcessGroup, config: Config, withTenant: WithTenant, nodeFlags: string[] = []) => {
  const tenant = await seedTenant(withTenant);
  await withTenant(tenant.tenantId, (tx) => tx.query(sql.unsafe`
    INSERT INTO leads (tenant_id, bot_id, wa_id, name, email, score, created_at)
    SELECT ${tenant.tenantId}, ${tenant.botId}, '5511' || lpad(n::text, 9, '0'), 'Lead ' || n, 'lead' || n || '@example.com', n % 100,
           now() - n * interval '1 second'
    FROM generate_series(1, 10000) AS n`));
  const tokenPool = await createTokenAdminPool(config.database);
  const { token } = (await issueToken(tokenPool, { tenantId: null, name: 'bench', expiresAt: null, actor: 'bench' }))!;
  await tokenPool.end();

  const [apiPort, barePort] = [await freePort(), await freePort()];
  await processes.start(['bench/bare-express.ts', String(barePort)], { readyText: 'bare express ready' });
  // Request logs off (warn): a log line per request would measure the pipe to this process.
  await processes.start([...nodeFlags, 'api/server.ts'], {
    env: { API_PORT: String(apiPort), LOG_LEVEL: 'warn', API_RATE_LIMIT_PER_IP: '100000000', API_RATE_LIMIT_PER_TOKEN: '100000000' },
  });
  for (let ready = false; !ready; await sleep(100)) {
    ready = await fetch(`http://127.0.0.1:${apiPort}/health/live`).then((response) => response.ok, () => false);
  }
  const leadsUrl = `http://127.0.0.1:${apiPort}/api/v1/tenants/${tenant.tenantId}/leads?limit=50`;
  const bareUrl = `http://127.0.0.1:${barePort}/bare`;
  const auth = { authorization: `Bearer ${token}` };
  await load(leadsUrl, auth).catch(() => undefined); // warm-up of pools, JIT and caches
  const bareMax = await load(bareUrl, {});
  const leadsMax = await load(leadsUrl, auth);
  const bareFixed = await load(bareUrl, {}, FIXED_RATE);
  const leadsFixed = await load(leadsUrl, auth, FIXED_RATE);
  return {
    leads: 10_000, pageSize: 50, secondsPerRun: SECONDS, connections: 10,
    bare: { max: bareMax, at500: bareFixed },
    leadList: { max: leadsMax, at500: leadsFixed },
    leadListVersusBare: Number((leadsMax.requestsPerSecond / bareMax.requestsPerSecond).toFixed(2)),
  };
};
