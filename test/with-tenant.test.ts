import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'slonik';
import { z } from 'zod';
import { loadConfig } from '../core/config.ts';
import { createDatabasePools, type DatabasePools } from '../core/db/pools.ts';
import { createWithTenant, type WithTenant } from '../core/db/with-tenant.ts';
import { TransactionRetriesExhaustedError } from '../core/errors.ts';
import { backoffDelayMs } from '../core/backoff.ts';

const config = loadConfig();
let pools: DatabasePools;

beforeAll(async () => {
  pools = await createDatabasePools(config.database);
});
afterAll(async () => {
  await pools.end();
});

/** Two transactions that take two advisory locks in opposite order: Postgres aborts one with 40P01. */
const deadlockPair = async (withTenant: WithTenant) => {
  const attempts = { first: 0, second: 0 };
  const [keyA, keyB] = [Math.floor(Math.random() * 1e9), Math.floor(Math.random() * 1e9) + 1];
  let arrived = 0;
  let release!: () => void;
  const bothHoldTheirFirstLock = new Promise<void>((resolve) => (release = resolve));
  const arrive = async () => {
    arrived += 1;
    if (arrived === 2) release();
    await bothHoldTheirFirstLock;
  };
  const lockInOrder = (name: 'first' | 'second', one: number, two: number) =>
    withTenant(randomUUID(), async (tx) => {
      attempts[name] += 1;
      await tx.query(sql.unsafe`SELECT pg_advisory_xact_lock(${one})`);
      await arrive();
      await tx.query(sql.unsafe`SELECT pg_advisory_xact_lock(${two})`);
      return name;
    });
  const results = await Promise.allSettled([lockInOrder('first', keyA, keyB), lockInOrder('second', keyB, keyA)]);
  return { results, attempts };
};

describe('withTenant', () => {
  it('sets the tenant for the transaction only, as a bound parameter', async () => {
    const withTenant = createWithTenant(pools.app, { maxAttempts: 1, retryBaseMs: 1 });
    const tenantId = randomUUID();
    const inside = await withTenant(tenantId, (tx) =>
      tx.oneFirst(sql.type(z.object({ tenant: z.string() }))`SELECT current_setting('app.current_tenant') AS tenant`));
    expect(inside).toBe(tenantId);
    const outside = await pools.app.oneFirst(
      sql.type(z.object({ tenant: z.string().nullable() }))`SELECT nullif(current_setting('app.current_tenant', true), '') AS tenant`);
    expect(outside).toBeNull();
  });

  it('costs one transaction on the server, without a reset round trip when its connection goes back', async () => {
    const commits = () => pools.maintenance.oneFirst(sql.type(z.object({ commits: z.number() }))`
      SELECT xact_commit::float8 AS commits FROM pg_stat_database WHERE datname = current_database()`);
    // Pools of their own: a backend reports its statistics when it ends.
    const own = await createDatabasePools(config.database);
    const withTenant = createWithTenant(own.app, { maxAttempts: 1, retryBaseMs: 1 });
    const before = await commits();
    for (let i = 0; i < 20; i += 1) await withTenant(randomUUID(), (tx) => tx.query(sql.unsafe`SELECT 1`));
    await own.end();
    await sleep(1_000);
    // 20 transactions; slonik's default DISCARD ALL on every release made it 40.
    expect(await commits() - before).toBeLessThan(30);
  });

  it('retries a transaction aborted by a deadlock, and both complete', async () => {
    const withTenant = createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 });
    const { results, attempts } = await deadlockPair(withTenant);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'fulfilled']);
    expect(attempts.first + attempts.second).toBe(3);
  });

  it('gives up after the bounded number of attempts with a typed error that keeps the cause', async () => {
    const withTenant = createWithTenant(pools.app, { maxAttempts: 1, retryBaseMs: 5 });
    const { results } = await deadlockPair(withTenant);
    const rejected = results.filter((result) => result.status === 'rejected');
    expect(rejected).toHaveLength(1);
    const error = (rejected[0] as PromiseRejectedResult).reason as TransactionRetriesExhaustedError;
    expect(error).toBeInstanceOf(TransactionRetriesExhaustedError);
    expect(error.attempts).toBe(1);
    expect((error.cause as { code?: string }).code).toBe('40P01');
  });

  it('backs off with full jitter, growing exponentially', () => {
    expect(backoffDelayMs(1, 25, Number.POSITIVE_INFINITY, () => 1)).toBe(25);
    expect(backoffDelayMs(3, 25, Number.POSITIVE_INFINITY, () => 1)).toBe(100);
    expect(backoffDelayMs(3, 25, Number.POSITIVE_INFINITY, () => 0)).toBe(0);
    expect(backoffDelayMs(2, 25, Number.POSITIVE_INFINITY, () => 0.5)).toBe(25);
  });
});
