/** Full-jitter exponential backoff: attempt 1 waits up to base, then doubling up to max. */
export const backoffDelayMs = (attempt: number, baseMs: number, maxMs: number, random = Math.random): number =>
  Math.floor(random() * Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1)));
