// Start-up of a long-running process: a dependency that is not there yet (Postgres, Temporal) is
// waited for, with backoff and a log line per attempt, instead of exiting into a crash loop.
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelayMs } from './backoff.ts';

export type WaitOptions = {
  readonly log: (attempt: number, error: unknown) => void;
  readonly baseMs?: number;
  readonly maxMs?: number;
  readonly signal?: AbortSignal;
};

/** Runs `attempt` until it succeeds (or `signal` aborts), waiting up to `maxMs` between tries. */
export const waitFor = async <T>(attempt: () => Promise<T>, { log, baseMs = 250, maxMs = 5_000, signal }: WaitOptions): Promise<T> => {
  for (let tries = 1; ; tries += 1) {
    signal?.throwIfAborted();
    try {
      return await attempt();
    } catch (error) {
      log(tries, error);
      await sleep(backoffDelayMs(tries, baseMs, maxMs), undefined, { signal });
    }
  }
};
