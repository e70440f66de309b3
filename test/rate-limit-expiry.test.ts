// The shared rate-limit tables do not grow without bound: expired windows and forgotten strikes are
// deleted by the traffic that writes them (on a clock the test moves), and a window that ended counts afresh.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Options } from 'express-rate-limit';
import { sql } from 'slonik';
import { z } from 'zod';
import { createLockouts } from '../api/lockout.ts';
import { createPostgresRateLimitStore } from '../api/rate-limit/postgres-store.ts';
import { loadConfig } from '../core/config.ts';
import { createDatabasePools, type DatabasePools } from '../core/db/pools.ts';

const config = loadConfig();
const DAY_MS = 24 * 60 * 60 * 1000;
let pools: DatabasePools;

beforeAll(async () => {
  pools = await createDatabasePools(config.database);
});
afterAll(async () => {
  await pools.end();
});

/** Waits for a background sweep: true once the row is gone. */
const goneWithin = async (exists: () => Promise<boolean>, timeoutMs = 5_000) => {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(50)) if (!await exists()) return true;
  return false;
};

describe('rate-limit rows', () => {
  it('count afresh after the window, and an expired window is deleted by a later hit', async () => {
    let clock = Date.UTC(2020, 0, 1);
    const prefix = `${randomUUID()}:ip:`;
    const store = createPostgresRateLimitStore(pools.app, prefix, () => clock);
    await store.init?.({ windowMs: 1_000 } as Options);
    const counted = (key: string) => pools.app.exists(sql.type(z.object({ x: z.number() }))`SELECT 1 AS x FROM api_rate_limit_hits WHERE key = ${prefix + key}`);

    expect((await store.increment('a')).totalHits).toBe(1);
    expect((await store.increment('a')).totalHits).toBe(2);
    clock += 1_000;
    expect(await store.increment('a')).toEqual({ totalHits: 1, resetTime: new Date(clock + 1_000) });
    expect(await store.get?.('a')).toEqual({ totalHits: 1, resetTime: new Date(clock + 1_000) });

    clock += 61_000;
    await store.increment('b');
    expect(await goneWithin(() => counted('a'))).toBe(true);
    expect(await counted('b')).toBe(true);
  });

  it('forget a lockout a day after the last offence once it has ended', async () => {
    let clock = Date.UTC(2020, 0, 1);
    const scope = randomUUID();
    const lockouts = createLockouts(pools.app, { windowMs: 60_000, maxMs: 3_600_000, scope }, () => clock);
    const locked = (client: string) => pools.app.exists(sql.type(z.object({ x: z.number() }))`SELECT 1 AS x FROM api_lockouts WHERE client = ${`${scope}:${client}`}`);

    await lockouts.strike('ip:old');
    clock += DAY_MS + 1;
    await lockouts.strike('ip:new');
    expect(await goneWithin(() => locked('ip:old'))).toBe(true);
    expect(await locked('ip:new')).toBe(true);
  });
});
