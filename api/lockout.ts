// Growing lockouts for repeat offenders: a client that runs into the rate limit is shut out for
// two windows, then four, eight… (at most API_LOCKOUT_MAX_SECONDS); its strikes are forgotten after
// a day without offence. Kept in memory per API process, like the limiter's counters.
import type { RequestHandler } from 'express';
import { HttpProblem, sendProblem } from './problem.ts';

const FORGET_AFTER_MS = 24 * 60 * 60 * 1000;

export const createLockouts = (windowMs: number, maxMs: number, now: () => number = Date.now) => {
  const offenders = new Map<string, { strikes: number; lockedUntil: number; lastOffence: number }>();
  return {
    /** Records an offence (a refused request) and returns how long the client is now locked out. */
    strike(client: string): number {
      const previous = offenders.get(client);
      const strikes = previous && now() - previous.lastOffence < FORGET_AFTER_MS ? previous.strikes + 1 : 1;
      const lockMs = Math.min(maxMs, windowMs * 2 ** strikes);
      offenders.set(client, { strikes, lockedUntil: now() + lockMs, lastOffence: now() });
      return lockMs;
    },
    guard: (clientOf: (request: Parameters<RequestHandler>[0]) => string): RequestHandler => (request, response, next) => {
      const entry = offenders.get(clientOf(request));
      const remainingMs = entry ? entry.lockedUntil - now() : 0;
      if (remainingMs <= 0) return next();
      response.set('Retry-After', String(Math.ceil(remainingMs / 1000)));
      sendProblem(response, new HttpProblem(429, 'Locked out', `too many requests over the limit; retry in ${Math.ceil(remainingMs / 1000)} s`), request.originalUrl);
    },
  };
};
