// What a rate-limit hit costs the database (issue 19): concurrent hits share statements, yet every
// hit still gets its own exact place in the shared count; a key hit in a flood reserves hits ahead,
// yet two replicas together never admit more than the limit; and a count does not wait for a WAL flush.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Options } from 'express-rate-limit';
import { createPool, sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { createHitCounter, MAX_LEASE } from '../api/rate-limit/hit-counter.ts';
import { createPostgresRateLimitStore } from '../api/rate-limit/postgres-store.ts';
import { loadConfig } from '../core/config.ts';
import { createDatabasePools, type DatabasePools } from '../core/db/pools.ts';

const config = loadConfig();
let pools: DatabasePools;

beforeAll(async () => {
  pools = await createDatabasePools(config.database);
});
afterAll(async () => {
  await pools.end();
});

/** The pool, counting the statements that write api_rate_limit_hits. */
const countingWrites = (pool: DatabasePool) => {
  const counter = { writes: 0 };
  const proxy = new Proxy(pool, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const query = args[0] as { sql?: unknown } | undefined;
        if (typeof query?.sql === 'string' && query.sql.includes('INSERT INTO api_rate_limit_hits')) counter.writes += 1;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { pool: proxy, counter };
};

const hitCount = (key: string) => pools.app.oneFirst(sql.type(z.object({ hits: z.number() }))`SELECT hits FROM api_rate_limit_hits WHERE key = ${key}`);
const walSyncs = () => pools.maintenance.oneFirst(sql.type(z.object({ syncs: z.number() }))`SELECT wal_sync::float8 AS syncs FROM pg_stat_wal`);

describe('rate-limit hits', () => {
  it('arriving together share statements, and each is told its own place in the count', async () => {
    const prefix = `${randomUUID()}:token:`;
    const { pool, counter } = countingWrites(pools.app);
    const store = createPostgresRateLimitStore(pool, prefix, (key) => `no-lockouts:${key}`);
    await store.init?.({ windowMs: 60_000 } as Options);

    const hits = await Promise.all(Array.from({ length: 40 }, (_, i) => store.increment(i % 2 === 0 ? 'a' : 'b')));

    const places = (key: 'a' | 'b') => hits.filter((_, i) => (i % 2 === 0) === (key === 'a')).map((hit) => hit.totalHits).sort((x, y) => x - y);
    expect(places('a')).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(places('b')).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect([await hitCount(`${prefix}a`), await hitCount(`${prefix}b`)]).toEqual([20, 20]);
    // The first hit goes alone; the 39 that arrive while it is in flight go together.
    expect(counter.writes).toBeLessThanOrEqual(2);
  });

  it('a key hit in a flood reserves hits ahead: far fewer statements, each hit told its exact place, never one counted after it was admitted', async () => {
    const prefix = `${randomUUID()}:token:`;
    const { pool, counter } = countingWrites(pools.app);
    const frozen = Date.now(); // every hit within one lease period: the lease grows at each statement
    const store = createPostgresRateLimitStore(pool, prefix, (key) => `no-lockouts:${key}`, () => frozen);
    await store.init?.({ windowMs: 60_000, limit: 1_000_000 } as Options);

    const places = [];
    for (let i = 0; i < 500; i += 1) {
      places.push((await store.increment('flood')).totalHits);
      // Reserved before admitted: the shared count is never behind the hits this process admitted.
      if (i % 50 === 0) expect(await hitCount(`${prefix}flood`)).toBeGreaterThanOrEqual(i + 1);
    }
    expect(places).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
    // Leases of 0, 1, 2, 4 … 64 hits: 15 statements for 500 hits, against 500 without leases.
    expect(counter.writes).toBeLessThanOrEqual(16);
    expect(await hitCount(`${prefix}flood`) - 500).toBeLessThanOrEqual(MAX_LEASE);
  });

  it('two replicas in a flood admit no more than the limit together, and lose at most a few hits to unused leases', async () => {
    const prefix = `${randomUUID()}:ip:`;
    const frozen = Date.now();
    const replicas = [0, 1].map(() => createPostgresRateLimitStore(pools.app, prefix, (key) => `no-lockouts:${key}`, () => frozen, createHitCounter(pools.app, () => frozen)));
    for (const store of replicas) await store.init?.({ windowMs: 60_000, limit: 200 } as Options);

    const admitted = [0, 0];
    for (let i = 0; i < 600; i += 1) {
      const replica = Math.floor(i / 7) % 2; // runs of seven on each: each replica's lease is used while the other's waits
      if ((await replicas[replica]!.increment('attacker')).totalHits <= 200) admitted[replica] = admitted[replica]! + 1;
    }
    const total = admitted[0]! + admitted[1]!;
    expect(total).toBeLessThanOrEqual(200);
    // A lease never takes more than an eighth of what is left, so little is stranded near the limit.
    expect(total).toBeGreaterThanOrEqual(190);
    expect(admitted[0]).toBeGreaterThan(0);
    expect(admitted[1]).toBeGreaterThan(0);
  });

  it('a key near its limit counts every hit in the database', async () => {
    const prefix = `${randomUUID()}:token:`;
    const frozen = Date.now();
    const store = createPostgresRateLimitStore(pools.app, prefix, (key) => `no-lockouts:${key}`, () => frozen);
    await store.init?.({ windowMs: 60_000, limit: 4 } as Options);
    for (let i = 1; i <= 6; i += 1) {
      expect((await store.increment('near')).totalHits).toBe(i);
      expect(await hitCount(`${prefix}near`)).toBe(i);
    }
  });

  it('does not wait for a WAL flush', async () => {
    // A pool of its own: a backend reports its WAL statistics when it ends.
    const pool = await createPool(config.database.appUrl, { maxPoolSize: 1 });
    const store = createPostgresRateLimitStore(pool, `${randomUUID()}:ip:`, (key) => `no-lockouts:${key}`);
    await store.init?.({ windowMs: 60_000 } as Options);
    const before = await walSyncs();
    for (let i = 0; i < 100; i += 1) await store.increment('one-at-a-time');
    await pool.end();
    await sleep(1_000);
    // With a flush per hit this is at least 100; without, the WAL writer's few background flushes.
    expect(await walSyncs() - before).toBeLessThan(30);
  });
});
