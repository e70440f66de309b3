// Inbound messages from Baileys, stored one after another in WhatsApp's order. Baileys sends
// WhatsApp the delivery receipt before it emits `messages.upsert`, so WhatsApp never redelivers a
// message the volume refused: it is held here, later ones queue behind it, and it is stored again
// with backoff until the volume takes it (lost only if the pod dies meanwhile).
import { setTimeout as sleep } from 'node:timers/promises';
import { JournalWriteError } from './journal.ts';
import { backoffDelayMs } from '../core/backoff.ts';

export type InboundQueue<M> = {
  push(message: M): void;
  /** Resolves once every pushed message was stored or given up (stopping, or not a volume error). */
  settled(): Promise<void>;
};

export const createInboundQueue = <M>(store: (message: M) => Promise<void>, options: {
  isStopping: () => boolean;
  onHeld: (error: JournalWriteError, retry: number) => void;
  onDropped: (error: unknown) => void;
  retryBaseMs?: number; retryMaxMs?: number;
}): InboundQueue<M> => {
  let tail: Promise<void> = Promise.resolve();
  const storeHolding = async (message: M) => {
    for (let retry = 1; ; retry += 1) {
      try {
        return await store(message);
      } catch (error) {
        if (!(error instanceof JournalWriteError) || options.isStopping()) throw error;
        options.onHeld(error, retry);
        await sleep(backoffDelayMs(retry, options.retryBaseMs ?? 500, options.retryMaxMs ?? 10_000));
      }
    }
  };
  return {
    push(message) {
      tail = tail.then(() => storeHolding(message)).catch(options.onDropped);
    },
    settled: () => tail,
  };
};
