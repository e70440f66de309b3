// express-rate-limit's Store over the table api_rate_limit_hits, so that every API replica counts
// into the same row: the limit holds for the deployment, not per process. A fixed window per key,
// like the library's memory store. Errors propagate: the limiter turns a database outage into the
// API's 503 (see docs/api.md, "Rate limits").
import type { ClientRateLimitInfo, Options, Store } from 'express-rate-limit';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { createHitCounter, type HitCounter } from './hit-counter.ts';
import { throttledSweep } from './sweep.ts';

const counted = z.object({ hits: z.number(), resetAtMs: z.number() });
const at = (ms: number) => sql.timestamp(new Date(ms));
// Expired windows are cleared once a minute per process; a stale row is never counted anyway.
const SWEEP_EVERY_MS = 60_000;
const toInfo = (row: z.infer<typeof counted>): ClientRateLimitInfo => ({ totalHits: row.hits, resetTime: new Date(row.resetAtMs) });

/**
 * `prefix` separates limiters (and deployments) that share the table: `<scope>:<limiter>:`.
 * `lockoutKey` names the key's row in api_lockouts: the same statement that counts a hit reads it,
 * and a client locked out counts as over the limit. `countHit`: limiters that share one counter
 * count their hits in shared statements (hit-counter.ts).
 */
export const createPostgresRateLimitStore = (
  pool: DatabasePool, prefix: string, lockoutKey: (key: string) => string, now: () => number = Date.now,
  countHit: HitCounter = createHitCounter(pool, now),
): Store => {
  let windowMs = 60_000;
  let limit: number | undefined;
  const sweep = throttledSweep(() => pool.query(sql.unsafe`DELETE FROM api_rate_limit_hits WHERE reset_at < ${at(now())}`), SWEEP_EVERY_MS, now);
  return {
    prefix,
    // Counts are shared with other processes: tells the library not to assume they are its own.
    localKeys: false,
    init: (options: Options) => {
      windowMs = options.windowMs;
      limit = typeof options.limit === 'number' ? options.limit : undefined;
    },
    async increment(key) {
      sweep();
      return toInfo(await countHit({ key: prefix + key, windowMs, lockoutKey: lockoutKey(key), limit }));
    },
    async get(key) {
      const row = await pool.maybeOne(sql.type(counted)`
        SELECT hits, (extract(epoch FROM reset_at) * 1000)::float8 AS "resetAtMs"
          FROM api_rate_limit_hits WHERE key = ${prefix + key} AND reset_at > ${at(now())}`);
      return row ? toInfo(row) : undefined;
    },
    async decrement(key) {
      await pool.query(sql.unsafe`UPDATE api_rate_limit_hits SET hits = hits - 1 WHERE key = ${prefix + key} AND hits > 0`);
    },
    async resetKey(key) {
      await pool.query(sql.unsafe`DELETE FROM api_rate_limit_hits WHERE key = ${prefix + key}`);
    },
  };
};
