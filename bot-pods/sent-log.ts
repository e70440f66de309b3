// The bot pod's sent-log on the volume: which idempotency keys were sent, under which WhatsApp
// message id. The id is derived from the key, and the intent is logged before the send, so a
// retry after a crash at any point either finds the send done or repeats it under the same id,
// which WhatsApp (and the simulator) treat as the same message.
import { createHash } from 'node:crypto';
import { openJournal, type JournalOptions } from './journal.ts';

type Entry = { readonly key: string; readonly waMessageId: string; readonly state: 'sending' | 'sent' };

/** A WhatsApp-style message id (Baileys' `3EB0` prefix) that is the same for every retry of one key. */
export const messageIdFor = (idempotencyKey: string): string =>
  `3EB0${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 36).toUpperCase()}`;

export type SentLog = {
  /** The WhatsApp id of a send that completed, if any. */
  sentId(key: string): string | null;
  /** Sends once per key: `send` gets the derived message id; a completed key is not sent again. */
  sendOnce(key: string, send: (waMessageId: string) => Promise<void>): Promise<{ waMessageId: string; alreadySent: boolean }>;
  close(): void;
};

export const openSentLog = (path: string, options: JournalOptions = {}): SentLog => {
  const journal = openJournal<Entry>(path, options);
  const sent = new Map<string, string>();
  for (const entry of journal.entries) if (entry.state === 'sent') sent.set(entry.key, entry.waMessageId);
  const inFlight = new Map<string, Promise<{ waMessageId: string; alreadySent: boolean }>>();
  return {
    sentId: (key) => sent.get(key) ?? null,
    sendOnce(key, send) {
      const done = sent.get(key);
      if (done) return Promise.resolve({ waMessageId: done, alreadySent: true });
      // Two attempts of one key at once (a retry racing a slow first try) share one send.
      const running = inFlight.get(key);
      if (running) return running.then((result) => ({ ...result, alreadySent: true }));
      const waMessageId = messageIdFor(key);
      const attempt = (async () => {
        // Not recorded, not sent: the attempt fails and Temporal retries it.
        journal.append({ key, waMessageId, state: 'sending' });
        await send(waMessageId);
        sent.set(key, waMessageId);
        try {
          journal.append({ key, waMessageId, state: 'sent' });
        } catch {
          // The message is out: the attempt succeeds. Only a retry after a restart (the completion
          // lost) finds `sending` alone, and sends again under the same id, which is one message.
        }
        return { waMessageId, alreadySent: false };
      })().finally(() => inFlight.delete(key));
      inFlight.set(key, attempt);
      return attempt;
    },
    close: () => journal.close(),
  };
};
