// One routing key per person, whatever form WhatsApp addresses them in (phone, `@lid`, or `@lid`
// with its phone) and in whatever order: the key names the lead's workflow, so one person is one
// workflow and two of their messages can never race. Kept on the volume, because Baileys' own
// lid mapping may not know a pairing the pod has already routed by.
//
// The first identifier seen for a person becomes its key (the phone when a message brings both);
// when a message pairs a lid with a phone, the one not yet known becomes an alias of the known
// one. Only a message (or Baileys' mapping) pairs them: never a guess. A phone and a lid first seen
// apart keep their own keys (and leads) even once paired: two leads are never merged automatically.
import { openJournal, type JournalOptions } from './journal.ts';

/** Digits of the phone and of the lid a message carries; at least one of them. */
export type SenderIdentity = { readonly phone: string | null; readonly lid: string | null };

type Entry = { readonly key: string; readonly ids: readonly string[] };

export type IdentityMap = {
  /** The sender's routing key; a new identifier is stored (fsynced) before the key is returned. */
  routingKey(botId: string, identity: SenderIdentity): string;
  close(): void;
};

export const openIdentityMap = (path: string, options: JournalOptions = {}): IdentityMap => {
  const journal = openJournal<Entry>(path, options);
  const keys = new Map<string, string>();
  const learn = (entry: Entry) => {
    for (const id of entry.ids) if (!keys.has(id)) keys.set(id, entry.key);
  };
  for (const entry of journal.entries) learn(entry);
  return {
    routingKey(botId, { phone, lid }) {
      // The phone first: when phone and lid were seen apart, the message goes where the phone goes.
      const ids = [phone === null ? null : `${botId}/phone:${phone}`, lid === null ? null : `${botId}/lid:${lid}`]
        .filter((id): id is string => id !== null);
      const key = ids.map((id) => keys.get(id)).find((known) => known !== undefined) ?? phone ?? lid;
      if (key === null) throw new Error('a sender without a phone or a lid has no routing key');
      const unknown = ids.filter((id) => !keys.has(id));
      if (unknown.length > 0) {
        const entry = { key, ids: unknown };
        journal.append(entry);
        learn(entry);
      }
      return key;
    },
    close: () => journal.close(),
  };
};
