// Counts rate-limit hits into the shared table api_rate_limit_hits, one statement at a time per
// process: hits that arrive while a statement is in flight wait, and the next statement counts them
// all (each key `+ n`, every limiter's keys together), each hit told its own place in its key's
// count. A key's row is locked once per batch instead of once per request.
//
// A key hit faster than one lease period (a flood, or one busy integration's token) reserves hits
// ahead: its statement counts a few more than its waiting hits, and this process admits that many
// later hits without a round trip. Reserved hits are counted before they are admitted, so the limit
// holds across replicas exactly as before: no window admits more than the limit. What a lease costs
// is its unused rest, counted against that client on the other replicas until the window ends. A
// lease doubles while each is used within the period (up to MAX_LEASE), never reaches past an
// eighth of what is left of the limit, and a key hit more slowly counts every hit in the database.
// A lockout set through another replica applies here once this process's lease is used: the hits
// it admits until then were counted within the limit.
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';

export type Hit = {
  /** The row's key, `<scope>:<limiter>:<client>`. */
  readonly key: string;
  readonly windowMs: number;
  /** The client's row in api_lockouts: a client locked out counts as over any limit. */
  readonly lockoutKey: string;
  /** The limiter's limit per window; without it, no hit is reserved ahead. */
  readonly limit?: number;
};
export type Counted = { readonly hits: number; readonly resetAtMs: number };
export type HitCounter = (hit: Hit) => Promise<Counted>;

/** A lease that is used up within this period is followed by a larger one. */
const LEASE_PERIOD_MS = 100;
export const MAX_LEASE = 64;
/** A lease never takes more than this share of what is left of the limit. */
const LEASE_SHARE_OF_HEADROOM = 8;
const FORGET_EXPIRED_EVERY_MS = 60_000;

type Waiter = { readonly hit: Hit; readonly resolve: (counted: Counted) => void; readonly reject: (error: unknown) => void };
/** What this process knows of a key's window: the count it reached, and the hits reserved ahead. */
type Lease = { used: number; readonly reservedTo: number; readonly resetAtMs: number; readonly takenAtMs: number; readonly size: number };
const countedRow = z.object({ key: z.string(), hits: z.number(), resetAtMs: z.number(), locked: z.boolean() });

/** How many hits the next statement reserves ahead for a key, from its last lease. */
const nextLeaseSize = (last: Lease | undefined, hit: Hit, waiting: number, time: number) => {
  if (!last || hit.limit === undefined || time >= last.resetAtMs || time - last.takenAtMs > LEASE_PERIOD_MS) return 0;
  const headroom = Math.floor((hit.limit - last.reservedTo - waiting) / LEASE_SHARE_OF_HEADROOM);
  return Math.max(0, Math.min(MAX_LEASE, Math.max(1, last.size * 2), headroom));
};

export const createHitCounter = (pool: DatabasePool, now: () => number = Date.now): HitCounter => {
  let queued: Waiter[] = [];
  let counting = false;
  const leases = new Map<string, Lease>();
  let forgotAt = now();

  const forgetExpired = (time: number) => {
    if (time - forgotAt < FORGET_EXPIRED_EVERY_MS) return;
    forgotAt = time;
    for (const [key, lease] of leases) if (lease.resetAtMs <= time) leases.delete(key);
  };

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
    const ahead = new Map(keys.map((key) => [key, nextLeaseSize(leases.get(key), first(key), byKey.get(key)!.length, time)]));
    const at = sql.fragment`to_timestamp(${time / 1000}::float8)`;
    // A count is not worth a WAL flush: a Postgres crash may forget the last fraction of a second of
    // hits, and no request waits for the disk while its key's row is locked.
    const rows = await pool.any(sql.type(countedRow)`
      WITH no_flush AS (SELECT set_config('synchronous_commit', 'off', true)),
      batch AS (
        SELECT * FROM unnest(${sql.array(keys, 'text')}, ${sql.array(keys.map((key) => byKey.get(key)!.length + ahead.get(key)!), 'int4')},
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
      const size = ahead.get(row.key)!;
      const counted = row.hits - size; // the waiters' hits end here, the lease's start after
      // Locked out: over any limit, so the limiter refuses and its handler answers with the lockout.
      if (row.locked) leases.delete(row.key);
      else leases.set(row.key, { used: counted, reservedTo: row.hits, resetAtMs: row.resetAtMs, takenAtMs: time, size });
      waiters.forEach((waiter, place) => waiter.resolve({ hits: row.locked ? Number.MAX_SAFE_INTEGER : counted - waiters.length + 1 + place, resetAtMs: row.resetAtMs }));
    }
    forgetExpired(time);
  };

  const drain = async () => {
    counting = true;
    while (queued.length > 0) {
      const batch = queued;
      queued = [];
      await countBatch(batch).catch((error: unknown) => {
        for (const waiter of batch) {
          leases.delete(waiter.hit.key);
          waiter.reject(error);
        }
      });
    }
    counting = false;
  };

  return (hit) => {
    const lease = leases.get(hit.key);
    if (lease && lease.used < lease.reservedTo && now() < lease.resetAtMs) {
      lease.used += 1;
      return Promise.resolve({ hits: lease.used, resetAtMs: lease.resetAtMs });
    }
    return new Promise<Counted>((resolve, reject) => {
      queued.push({ hit, resolve, reject });
      if (!counting) void drain();
    });
  };
};
