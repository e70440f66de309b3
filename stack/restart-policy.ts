// When `npm start` restarts a process that died: a jittered exponential backoff over the crashes in
// a row, and a run that stayed up for `stableMs` starts the count again, so a process that crashes
// once a day is back in about a second each time instead of paying the ceiling forever.
import { backoffDelayMs } from '../core/backoff.ts';

export type RestartPolicy = { readonly baseMs: number; readonly maxMs: number; readonly stableMs: number };

export const DEFAULT_RESTART_POLICY: RestartPolicy = { baseMs: 1_000, maxMs: 30_000, stableMs: 60_000 };

/** Crashes in a row, counting the one that just happened after `uptimeMs` of running. */
export const crashesInARow = (previous: number, uptimeMs: number, policy: RestartPolicy): number =>
  uptimeMs >= policy.stableMs ? 1 : previous + 1;

export const restartDelayMs = (crashes: number, policy: RestartPolicy, random = Math.random): number =>
  backoffDelayMs(crashes, policy.baseMs, policy.maxMs, random);
