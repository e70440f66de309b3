// Growing lockouts for repeat offenders: a client that runs into the rate limit is shut out for
// two windows, then four, eight… (at most API_LOCKOUT_MAX_SECONDS); its strikes are forgotten after
// a day without offence. Kept in the table api_lockouts, so a client locked out through one API
// replica is locked out of every replica; `scope` separates deployments sharing a database.
import type { RequestHandler } from 'express';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { HttpProblem, sendProblem } from './problem.ts';
import { throttledSweep } from './rate-limit/sweep.ts';

const FORGET_AFTER_MS = 24 * 60 * 60 * 1000;
const SWEEP_EVERY_MS = 60 * 60 * 1000;
const at = (ms: number) => sql.timestamp(new Date(ms));
const lockedUntil = z.object({ untilMs: z.number() });

export type LockoutOptions = { readonly windowMs: number; readonly maxMs: number; readonly scope: string };

export const createLockouts = (pool: DatabasePool, { windowMs, maxMs, scope }: LockoutOptions, now: () => number = Date.now) => {
  const keyOf = (client: string) => `${scope}:${client}`;
  const sweep = throttledSweep(() => pool.query(sql.unsafe`
    DELETE FROM api_lockouts WHERE last_offence < ${at(now() - FORGET_AFTER_MS)} AND locked_until < ${at(now())}`), SWEEP_EVERY_MS, now);
  return {
    /** Records an offence (a refused request) and returns how long the client is now locked out. */
    async strike(client: string): Promise<number> {
      sweep();
      const time = now();
      const strikes = sql.fragment`CASE WHEN l.last_offence > ${at(time - FORGET_AFTER_MS)} THEN l.strikes + 1 ELSE 1 END`;
      const lockFor = (count: ReturnType<typeof sql.fragment>) =>
        sql.fragment`${at(time)} + least(${maxMs}::float8, ${windowMs}::float8 * power(2, ${count})) * interval '1 millisecond'`;
      // One statement: strikes through two replicas at once both count.
      const { untilMs } = await pool.one(sql.type(lockedUntil)`
        INSERT INTO api_lockouts AS l (client, strikes, locked_until, last_offence)
        VALUES (${keyOf(client)}, 1, ${lockFor(sql.fragment`1`)}, ${at(time)})
        ON CONFLICT (client) DO UPDATE SET strikes = ${strikes}, locked_until = ${lockFor(strikes)}, last_offence = EXCLUDED.last_offence
        RETURNING (extract(epoch FROM locked_until) * 1000)::float8 AS "untilMs"`);
      return untilMs - time;
    },
    guard: (clientOf: (request: Parameters<RequestHandler>[0]) => string): RequestHandler => async (request, response, next) => {
      const untilMs = await pool.maybeOneFirst(sql.type(lockedUntil)`
        SELECT (extract(epoch FROM locked_until) * 1000)::float8 AS "untilMs" FROM api_lockouts WHERE client = ${keyOf(clientOf(request))}`);
      const remainingMs = untilMs === null ? 0 : untilMs - now();
      if (remainingMs <= 0) return next();
      response.set('Retry-After', String(Math.ceil(remainingMs / 1000)));
      sendProblem(response, new HttpProblem(429, 'Locked out', `too many requests over the limit; retry in ${Math.ceil(remainingMs / 1000)} s`), request.originalUrl);
    },
  };
};
