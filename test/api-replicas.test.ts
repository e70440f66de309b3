// Two API processes against one database count as one API: the rate limit holds across both (not
// once per process), concurrent hits through both lose no count, and a lockout set through one
// replica is honoured by the other.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { issueToken } from '../api/token-store.ts';
import { loadConfig } from '../core/config.ts';
import { createDatabasePools, createTokenAdminPool, type DatabasePools } from '../core/db/pools.ts';
import type { DatabasePool } from 'slonik';
import { createWithTenant } from '../core/db/with-tenant.ts';
import { processGroup } from './support/processes.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

const config = loadConfig();
const processes = processGroup();
const PER_TOKEN = 4;
let pools: DatabasePools;
let tokenPool: DatabasePool;
let tenant: TenantGraph;
let replicas: string[];

const freePort = () => new Promise<number>((resolve, reject) => {
  const server = createServer().listen(0, '127.0.0.1', () => {
    const { port } = server.address() as { port: number };
    server.close(() => resolve(port));
  }).on('error', reject);
});

const startReplica = async (scope: string) => {
  const port = await freePort();
  await processes.start(['api/server.ts'], {
    readyText: 'api ready',
    env: {
      API_PORT: String(port), API_HOST: '127.0.0.1', API_RATE_LIMIT_SCOPE: scope,
      API_RATE_LIMIT_WINDOW_SECONDS: '900', API_RATE_LIMIT_PER_IP: '1000', API_RATE_LIMIT_PER_TOKEN: String(PER_TOKEN),
    },
  });
  return `http://127.0.0.1:${port}`;
};

const issue = async () => (await issueToken(tokenPool, { tenantId: tenant.tenantId, name: 'replicas', expiresAt: null, actor: 'test' }))!.token;

const get = async (replica: string, token: string) => {
  const response = await fetch(`${replica}/api/v1/tenants/${tenant.tenantId}`, { headers: { authorization: `Bearer ${token}` } });
  const body = await response.json() as { title?: string };
  return { status: response.status, title: body.title ?? null, retryAfter: Number(response.headers.get('retry-after')) };
};

beforeAll(async () => {
  pools = await createDatabasePools(config.database);
  tokenPool = await createTokenAdminPool(config.database);
  tenant = await seedTenant(createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 }));
  // Both replicas in one scope: a deployment's two pods.
  const scope = randomUUID();
  replicas = await Promise.all([startReplica(scope), startReplica(scope)]);
}, 60_000);
afterAll(async () => {
  await processes.stopAll();
  await Promise.all([pools.end(), tokenPool.end()]);
});

describe('two API replicas', () => {
  it('count one limit: alternating between them, the request after the limit is refused, and the lockout holds on the other', async () => {
    const token = await issue();
    const answers = [];
    for (let i = 0; i <= PER_TOKEN; i += 1) answers.push(await get(replicas[i % 2]!, token));
    expect(answers.map((answer) => answer.status)).toEqual([...Array(PER_TOKEN).fill(200), 429]);
    expect(answers[PER_TOKEN]).toMatchObject({ title: 'Too many requests', retryAfter: 1800 });
    // The refusal came from one replica; the other honours the lockout it set.
    const other = replicas[(PER_TOKEN + 1) % 2]!;
    const locked = await get(other, token);
    expect(locked.status).toBe(429);
    expect(locked.title).toBe('Locked out');
    expect(locked.retryAfter).toBeGreaterThan(1790);
  });

  it('lose no count when both are hit at once', async () => {
    const token = await issue();
    const statuses = await Promise.all(Array.from({ length: 4 * PER_TOKEN }, (_, i) => get(replicas[i % 2]!, token).then((answer) => answer.status)));
    expect(statuses.filter((status) => status === 200)).toHaveLength(PER_TOKEN);
    expect(statuses.filter((status) => status === 429)).toHaveLength(3 * PER_TOKEN);
  });
});
