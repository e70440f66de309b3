// The inbound outbox on the volume: every message WhatsApp hands the pod is appended (fsynced)
// before anything else, then delivered to its lead workflow in arrival order. When Temporal does
// not accept a delivery, the outbox keeps it and retries with backoff, so nothing is lost while
// Temporal, the network or the pod itself is down. Deduplicated by WhatsApp message id.
import { backoffDelayMs } from '../core/backoff.ts';
import type { InboundMessage } from '../core/temporal/lead-conversation.ts';
import { openJournal, type JournalOptions } from './journal.ts';

type Entry = { readonly op: 'add'; readonly message: InboundMessage } | { readonly op: 'done'; readonly waMessageId: string };

/** Ids of delivered messages remembered after compaction, to drop late redeliveries from WhatsApp. */
const REMEMBERED_DELIVERED = 10_000;
const COMPACT_AFTER_ENTRIES = 20_000;

export type Outbox = {
  /**
   * Appends durably; false when the message id is already in the outbox (pending or delivered).
   * Throws JournalWriteError when the volume cannot persist it: the message is then not taken.
   */
  add(message: InboundMessage): boolean;
  pending(): readonly InboundMessage[];
  /** Delivers pending messages in order until one fails; then waits and starts again. */
  drain(deliver: (message: InboundMessage) => Promise<void>): Promise<void>;
  /** Wakes a drain that waits for work or for its backoff. */
  notify(): void;
  close(): Promise<void>;
};

export const openOutbox = (path: string, options: {
  retryBaseMs?: number; retryMaxMs?: number; onError?: (error: unknown, attempt: number) => void; journal?: JournalOptions;
} = {}): Outbox => {
  const journal = openJournal<Entry>(path, options.journal);
  const pending = new Map<string, InboundMessage>();
  const delivered = new Set<string>();
  for (const entry of journal.entries) {
    if (entry.op === 'add' && !delivered.has(entry.message.waMessageId)) pending.set(entry.message.waMessageId, entry.message);
    if (entry.op === 'done') {
      pending.delete(entry.waMessageId);
      delivered.add(entry.waMessageId);
    }
  }
  let entriesWritten = journal.entries.length;
  let closed = false;
  let draining: Promise<void> = Promise.resolve();
  let wake: (() => void) | null = null;
  const sleep = (ms: number) => new Promise<void>((resolve) => {
    const timer = setTimeout(() => { wake = null; resolve(); }, ms);
    wake = () => { clearTimeout(timer); wake = null; resolve(); };
  });

  const compact = async () => {
    const remembered = [...delivered].slice(-REMEMBERED_DELIVERED);
    delivered.clear();
    for (const id of remembered) delivered.add(id);
    const kept: Entry[] = [
      ...remembered.map((waMessageId) => ({ op: 'done' as const, waMessageId })),
      ...[...pending.values()].map((message) => ({ op: 'add' as const, message })),
    ];
    await journal.rewrite(kept);
    entriesWritten = kept.length;
  };

  return {
    add(message) {
      if (pending.has(message.waMessageId) || delivered.has(message.waMessageId)) return false;
      journal.append({ op: 'add', message });
      entriesWritten += 1;
      pending.set(message.waMessageId, message);
      wake?.();
      return true;
    },
    pending: () => [...pending.values()],
    drain(deliver) {
      draining = run(deliver);
      return draining;
    },
    notify: () => wake?.(),
    async close() {
      closed = true;
      wake?.();
      await draining;
      journal.close();
    },
  };

  async function run(deliver: (message: InboundMessage) => Promise<void>): Promise<void> {
    {
      const base = options.retryBaseMs ?? 200;
      const max = options.retryMaxMs ?? 30_000;
      for (let attempt = 0; !closed; ) {
        const next = pending.values().next();
        if (next.done) {
          // A compaction the volume refuses is tried again later; the journal is unchanged.
          if (entriesWritten > COMPACT_AFTER_ENTRIES) await compact().catch((error: unknown) => options.onError?.(error, 0));
          await sleep(60_000);
          continue;
        }
        try {
          await deliver(next.value);
          // Closed meanwhile, or the `done` record below fails: the message stays pending and is
          // delivered once more; the lead workflow drops it as a duplicate.
          if (closed) return;
          journal.append({ op: 'done', waMessageId: next.value.waMessageId });
          entriesWritten += 1;
          pending.delete(next.value.waMessageId);
          delivered.add(next.value.waMessageId);
          attempt = 0;
        } catch (error) {
          attempt += 1;
          options.onError?.(error, attempt);
          // Full jitter: many pods coming back at once do not hit Temporal together.
          await sleep(backoffDelayMs(attempt + 1, base, max));
        }
      }
    }
  }
};
