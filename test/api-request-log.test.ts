// The API's logs by level: at info every request is a line (its token redacted); above info a
// successful request writes nothing, and a failed one is still logged with its request id, method
// and route pattern (never the concrete path, which carries ids).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { pino, type Level } from 'pino';
import type { DatabasePool } from 'slonik';
import { loadConfig } from '../core/config.ts';
import { createDatabasePools, createTokenAdminPool, type DatabasePools } from '../core/db/pools.ts';
import { createWithTenant, type WithTenant } from '../core/db/with-tenant.ts';
import { startEmailApi } from './support/email-api.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

const config = loadConfig();
let pools: DatabasePools;
let tokenPool: DatabasePool;
let withTenant: WithTenant;
let tenant: TenantGraph;

beforeAll(async () => {
  pools = await createDatabasePools(config.database);
  tokenPool = await createTokenAdminPool(config.database);
  withTenant = createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 });
  tenant = await seedTenant(withTenant);
});
afterAll(async () => {
  await Promise.all([pools.end(), tokenPool.end()]);
});

/** The API logging at `level` into an array; `get` answers a path with the status and request id. */
const apiLoggingAt = async (level: Level) => {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level }, { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>); } });
  const api = await startEmailApi(config, { pools, tokenPool, withTenant, logger });
  const token = await api.tokenFor(tenant.tenantId);
  const get = async (path: string) => {
    const response = await fetch(`${api.base}/api/v1${path}`, { headers: { authorization: `Bearer ${token}` } });
    await response.arrayBuffer();
    return { status: response.status, requestId: response.headers.get('x-request-id') };
  };
  return { lines, token, get, stop: api.stop };
};

// The test harness gives this API no Temporal: a route that needs it fails with a 500.
const failingPath = () => `/data-integrity/tenants/${tenant.tenantId}/status`;

describe('request logs', () => {
  it('at info, logs every request once, with its id and without its token', async () => {
    const api = await apiLoggingAt('info');
    try {
      const { status, requestId } = await api.get(`/tenants/${tenant.tenantId}/leads`);
      expect(status).toBe(200);
      const requestLines = api.lines.filter((line) => (line.req as { id?: string } | undefined)?.id === requestId);
      expect(requestLines).toEqual([expect.objectContaining({ msg: 'request completed', req: expect.objectContaining({ method: 'GET' }) })]);
      expect(JSON.stringify(api.lines)).not.toContain(api.token);
    } finally {
      await api.stop();
    }
  });

  it('above info, writes nothing for a successful request and logs a failed one with its method and route pattern', async () => {
    const api = await apiLoggingAt('warn');
    try {
      expect((await api.get(`/tenants/${tenant.tenantId}/leads`)).status).toBe(200);
      expect(api.lines).toEqual([]);
      const failed = await api.get(failingPath());
      expect(failed.status).toBe(500);
      expect(api.lines).toEqual([expect.objectContaining({
        level: 50, msg: 'request failed', requestId: failed.requestId, method: 'GET', route: '/data-integrity/tenants/:tenantId/status',
      })]);
      expect(api.lines[0]).not.toHaveProperty('req');
    } finally {
      await api.stop();
    }
  });
});
