// The audit's critical finding C1: a tenant id interpolated into `SET app.current_tenant = '...'`.
// Here a tenant id that is not a UUID is refused before a connection is even taken from the pool.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createPool, sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { loadConfig } from '../core/config.ts';
import { createWithTenant } from '../core/db/with-tenant.ts';
import { InvalidTenantIdError } from '../core/errors.ts';

const HOSTILE_TENANT_IDS: unknown[] = [
  "'; DROP TABLE leads; --",
  "00000000-0000-0000-0000-000000000000' OR '1'='1",
  "00000000-0000-0000-0000-000000000000'; SET row_security = off; --",
  '00000000-0000-0000-0000-000000000000 ',
  '{00000000-0000-0000-0000-000000000000}',
  '',
  'x'.repeat(10_000),
  null,
  undefined,
  42,
  { toString: () => '00000000-0000-0000-0000-000000000000' },
];

const config = loadConfig();
const counted = { connections: 0, queries: 0 };
let pool: DatabasePool;
let maintenance: DatabasePool;

const tableFingerprint = () =>
  maintenance.many(sql.type(z.object({ table: z.string(), rows: z.number() }))`
    SELECT c.relname AS "table",
           (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I.%I', n.nspname, c.relname), false, true, '')))[1]::text::int AS rows
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind = 'r'
    ORDER BY 1`);

beforeAll(async () => {
  pool = await createPool(config.database.appUrl, {
    interceptors: [{
      name: 'count',
      beforePoolConnection: () => {
        counted.connections += 1;
        return null;
      },
      beforeQueryExecution: () => {
        counted.queries += 1;
        return null;
      },
    }],
  });
  maintenance = await createPool(config.database.maintenanceUrl);
});
afterAll(async () => {
  await Promise.all([pool.end(), maintenance.end()]);
});

describe('tenant id injection', () => {
  it('refuses every non-UUID tenant id before any SQL runs, and leaves every table intact', async () => {
    const before = await tableFingerprint();
    expect(before.map((row) => row.table)).toContain('leads');
    const withTenant = createWithTenant(pool, { maxAttempts: 3, retryBaseMs: 1 });
    for (const tenantId of HOSTILE_TENANT_IDS) {
      await expect(withTenant(tenantId as string, async () => 'ran')).rejects.toBeInstanceOf(InvalidTenantIdError);
    }
    expect(counted).toEqual({ connections: 0, queries: 0 });
    expect(await tableFingerprint()).toEqual(before);
  });

  it('does not echo the hostile value in the error message', async () => {
    const withTenant = createWithTenant(pool, { maxAttempts: 1, retryBaseMs: 1 });
    await expect(withTenant("'; DROP TABLE leads; --", async () => 'ran')).rejects.toThrow(
      /^Tenant id must be a UUID \(got a string of length 23\)$/,
    );
  });
});
