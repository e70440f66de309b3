// Counts rate-limit hits into the shared table api_rate_limit_hits, one statement at a time per
// process: hits that arrive while a statement is in flight wait, and the next statement counts them
// all (each key `+ n`, every limiter's keys together), each hit told its own place in its key's
// count. Every hit is still counted in the database before its request goes on, so a limit stays
// exact across replicas; under load a request costs a fraction of a round trip, and a key's row is
// locked once per batch instead of once per request.
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';

export type Hit = {
  /** The row's key, `<scope>:<limiter>:<client>`. */
  readonly key: string;
  readonly windowMs: number;
  /** The client's row in api_lockouts: a client locked out counts as over any limit. */
  readonly lockoutKey: string;
};
export type Counted = { readonly hits: number; readonly resetAtMs: number };
export type HitCounter = (hit: Hit) => Promise<Counted>;

type Waiter = { readonly hit: Hit; readonly resolve: (counted: Counted) => void; readonly reject: (error: unknown) => void };
const countedRow = z.object({ key: z.string(), hits: z.number(), resetAtMs: z.number(), locked: z.boolean() });

export const createHitCounter = (pool: DatabasePool, now: () => number = Date.now): HitCounter => {
  let queued: Waiter[] = [];
  let counting = false;

  const countBatch = async (batch: readonly Waiter[]) => {
    const byKey = new Map<string, Waiter[]>();
    for (const waiter of batch) {
      const waiters = byKey.get(waiter.hit.key);
      if (waiters) waiters.push(waiter);
      else byKey.set(waiter.hit.key, [waiter]);
    }
    const keys = [...byKey.keys()].sort(); // rows locked in one order: two replicas' batches cannot deadlock
    const first = (key: string) => byKey.get(key)![0]!.hit;
    const time = now();
    const at = sql.fragment`to_timestamp(${time / 1000}::float8)`;
    // A count is not worth a WAL flush: a Postgres crash may forget the last fraction of a second of
    // hits, and no request waits for the disk while its key's row is locked.
    const rows = await pool.any(sql.type(countedRow)`
      WITH no_flush AS (SELECT set_config('synchronous_commit', 'off', true)),
      batch AS (
        SELECT * FROM unnest(${sql.array(keys, 'text')}, ${sql.array(keys.map((key) => byKey.get(key)!.length), 'int4')},
          ${sql.array(keys.map((key) => time + first(key).windowMs), 'float8')}, ${sql.array(keys.map((key) => first(key).lockoutKey), 'text')})
          AS b (key, hits, reset_ms, lockout_key)),
      hit AS (
        INSERT INTO api_rate_limit_hits AS h (key, hits, reset_at)
        SELECT key, hits, to_timestamp(reset_ms / 1000) FROM batch ORDER BY key
        ON CONFLICT (key) DO UPDATE SET
          hits = CASE WHEN h.reset_at <= ${at} THEN EXCLUDED.hits ELSE h.hits + EXCLUDED.hits END,
          reset_at = CASE WHEN h.reset_at <= ${at} THEN EXCLUDED.reset_at ELSE h.reset_at END
        RETURNING key, hits, reset_at)
      SELECT hit.key, hit.hits, (extract(epoch FROM hit.reset_at) * 1000)::float8 AS "resetAtMs",
        EXISTS (SELECT 1 FROM api_lockouts WHERE client = batch.lockout_key AND locked_until > ${at}) AS "locked"
      FROM hit JOIN batch USING (key), no_flush`);
    for (const row of rows) {
      const waiters = byKey.get(row.key)!;
      // Locked out: over any limit, so the limiter refuses and its handler answers with the lockout.
      waiters.forEach((waiter, place) => waiter.resolve({ hits: row.locked ? Number.MAX_SAFE_INTEGER : row.hits - waiters.length + 1 + place, resetAtMs: row.resetAtMs }));
    }
  };

  const drain = async () => {
    counting = true;
    while (queued.length > 0) {
      const batch = queued;
      queued = [];
      await countBatch(batch).catch((error: unknown) => { for (const waiter of batch) waiter.reject(error); });
    }
    counting = false;
  };

  return (hit) => new Promise<Counted>((resolve, reject) => {
    queued.push({ hit, resolve, reject });
    if (!counting) void drain();
  });
};
