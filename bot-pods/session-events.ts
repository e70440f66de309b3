// The bots' connection history on its way to the platform: each change a transport reports gets an
// id and a time here, waits in memory, and is delivered in order, in batches, retried with backoff
// while Temporal or the worker is away. The id makes a batch delivered twice one set of rows.
import { randomUUID } from 'node:crypto';
import { backoffDelayMs } from '../core/backoff.ts';
import type { BotSessionChange, BotSessionEvent } from '../core/temporal/bot-sessions.ts';

/** Beyond this many undelivered changes the oldest go: a history must not grow a pod's memory without bound. */
const MAX_QUEUED = 1_000;
const BATCH = 100;
/** At close, the last deliveries get this long in all: a stopping pod reports its last changes, but its stop is not held up. */
const FLUSH_MS = 3_000;

export type SessionEventReporter = {
  add(botId: string, change: BotSessionChange): void;
  /** Delivers until closed. */
  run(): Promise<void>;
  /** Stops delivering after one last, bounded, attempt; what is still undelivered is lost. */
  close(): Promise<void>;
};

export const createSessionEventReporter = (options: {
  deliver(events: readonly BotSessionEvent[]): Promise<void>;
  onError(error: unknown, attempt: number): void;
  onDropped(count: number): void;
}): SessionEventReporter => {
  const queue: BotSessionEvent[] = [];
  // A batch once tried is tried again unchanged, so a delivery that did land is repeated, never split.
  let batch: BotSessionEvent[] | null = null;
  let closed = false;
  let running: Promise<void> = Promise.resolve();
  let wake: (() => void) | null = null;
  const sleep = (ms: number) => new Promise<void>((resolve) => {
    if (closed) return resolve();
    const timer = setTimeout(() => { wake = null; resolve(); }, ms);
    wake = () => { clearTimeout(timer); wake = null; resolve(); };
  });
  const loop = async () => {
    for (let attempt = 0; !closed; ) {
      batch ??= queue.length > 0 ? queue.splice(0, BATCH) : null;
      if (!batch) {
        await sleep(60_000);
        continue;
      }
      try {
        await options.deliver(batch);
        batch = null;
        attempt = 0;
      } catch (error) {
        attempt += 1;
        options.onError(error, attempt);
        await sleep(backoffDelayMs(attempt + 1, 200, 30_000));
      }
    }
  };
  // Strictly increasing times, so changes within one millisecond keep their order in the history.
  let lastMs = 0;
  return {
    add(botId, change) {
      lastMs = Math.max(Date.now(), lastMs + 1);
      queue.push({ ...change, reason: change.reason?.slice(0, 500) || null, id: randomUUID(), botId, occurredAt: new Date(lastMs).toISOString() });
      if (queue.length > MAX_QUEUED) options.onDropped(queue.splice(0, queue.length - MAX_QUEUED).length);
      wake?.();
    },
    run() {
      running = loop();
      return running;
    },
    async close() {
      closed = true;
      wake?.();
      // A delivery in flight while the platform is away (up to its 30 s timeout) does not hold the
      // stop up either: its batch is tried once more below, and a repeated event is stored once.
      const deadline = new Promise<void>((resolve) => setTimeout(resolve, FLUSH_MS).unref());
      await Promise.race([running, deadline]);
      const last = [...batch ?? [], ...queue.splice(0)];
      if (last.length === 0) return;
      await Promise.race([options.deliver(last).catch((error: unknown) => options.onError(error, 0)), deadline]);
    },
  };
};
