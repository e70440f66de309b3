// Load shapes for the end-to-end benchmark: a burst as fast as the clients go (maximum rate), and
// a paced stream at a fixed rate (latency). A message is done when its `completedAt` is known.
import { setTimeout as sleep } from 'node:timers/promises';

export type BenchMessage = { readonly key: string; readonly leadIndex: number; readonly text: string };

export type Target = {
  /** Hands one message to the platform (signalWithStart). */
  send(message: BenchMessage): Promise<void>;
  /** How many of `keys` are done. */
  doneCount(keys: readonly string[]): Promise<number>;
  /** Completion time (epoch ms) of each of `keys`, once all are done. */
  completions(keys: readonly string[]): Promise<ReadonlyMap<string, number>>;
  /** The id of the workflow that handles `message` (its lead's). */
  workflowIdOf(message: BenchMessage): string;
};

export type LoadResult = {
  readonly messages: number;
  readonly messagesPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** The slowest message: what `p99Ms` was when a run had fewer than 100 messages. */
  readonly maxMs: number;
};

const percentile = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

const summarize = (sentAt: ReadonlyMap<string, number>, done: ReadonlyMap<string, number>): LoadResult => {
  const latencies = [...sentAt].map(([key, at]) => done.get(key)! - at).sort((a, b) => a - b);
  const first = Math.min(...sentAt.values());
  const last = Math.max(...done.values());
  return {
    messages: sentAt.size,
    messagesPerSecond: Math.round((sentAt.size / (last - first)) * 1000),
    p50Ms: Math.round(percentile(latencies, 50)),
    p99Ms: Math.round(percentile(latencies, 99)),
    maxMs: Math.round(latencies.at(-1)!),
  };
};

const waitForAll = async (target: Target, keys: readonly string[], timeoutMs: number) => {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(200)) {
    if (await target.doneCount(keys) === keys.length) return target.completions(keys);
  }
  throw new Error(`only part of ${keys.length} messages completed within ${timeoutMs / 1000}s`);
};

/** Everything at once, `concurrency` sends in flight: the rate the platform sustains. */
export const burst = async (target: Target, messages: readonly BenchMessage[], concurrency = 64): Promise<LoadResult> => {
  const sentAt = new Map<string, number>();
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    for (let i = next++; i < messages.length; i = next++) {
      sentAt.set(messages[i]!.key, Date.now());
      await target.send(messages[i]!);
    }
  }));
  return summarize(sentAt, await waitForAll(target, [...sentAt.keys()], 600_000));
};

/** One message every 1/rate seconds, whatever the platform does: the latency at that rate. */
export const paced = async (target: Target, messages: readonly BenchMessage[], ratePerSecond: number): Promise<LoadResult> => {
  const sentAt = new Map<string, number>();
  const started = Date.now();
  const sends: Promise<void>[] = [];
  for (const [i, message] of messages.entries()) {
    const due = started + (i * 1000) / ratePerSecond;
    if (due > Date.now()) await sleep(due - Date.now());
    sentAt.set(message.key, Date.now());
    sends.push(target.send(message));
  }
  await Promise.all(sends);
  return summarize(sentAt, await waitForAll(target, [...sentAt.keys()], 600_000));
};

/** `count` messages spread round-robin over `leads` leads, so each lead's share arrives interleaved. */
export const messagesFor = (run: string, leads: number, count: number, texts: readonly string[]): BenchMessage[] =>
  Array.from({ length: count }, (_, i) => ({ key: `${run}-${i}`, leadIndex: i % leads, text: texts[i % texts.length]! }));
