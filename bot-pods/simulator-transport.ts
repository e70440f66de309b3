// The simulated WhatsApp network behind the Transport interface: inbound messages arrive over
// the pod's HTTP port shaped exactly like Baileys' proto.IWebMessageInfo, and what the bot sends
// is kept (on the volume, so a test can read it across pod restarts) and listed. A message id sent
// twice is one message, as on WhatsApp.
import { createHash } from 'node:crypto';
import type { proto } from '@whiskeysockets/baileys';
import type { BotStatus } from '../core/temporal/bot-pod.ts';
import { openJournal, type Journal, type JournalOptions } from './journal.ts';
import type { Transport, TransportHandlers } from './transport.ts';

export type SimulatedSend = {
  readonly jid: string;
  readonly text: string;
  readonly waMessageId: string;
  readonly at: string;
  readonly media?: { readonly mimeType: string; readonly bytes: number; readonly sha256: string; readonly fileName: string | null };
};

export type SimulatorTransport = Transport & {
  /** Resolves once the pod holds the message durably (its outbox); rejects when it could not. */
  inject(info: proto.IWebMessageInfo): Promise<void>;
  sent(): readonly SimulatedSend[];
};

export const createSimulatorTransport = (
  botId: string, sentPath: string, handlers: TransportHandlers, journalOptions: JournalOptions = {},
): SimulatorTransport => {
  let journal: Journal<SimulatedSend> | null = null;
  const sends = new Map<string, SimulatedSend>();
  // Like Baileys, the simulated network learns a lid's phone from messages that carry both (in
  // memory only: a restarted pod forgets it, as a Baileys store without that entry would).
  const phoneOfLid = new Map<string, string>();
  const learnPairing = (key: proto.IMessageKey & { remoteJidAlt?: string | null; participantAlt?: string | null }) => {
    for (const [jid, alt] of [[key.remoteJid, key.remoteJidAlt], [key.participant, key.participantAlt]]) {
      if (jid?.endsWith('@lid') && alt?.endsWith('@s.whatsapp.net')) phoneOfLid.set(jid, alt);
      if (alt?.endsWith('@lid') && jid?.endsWith('@s.whatsapp.net')) phoneOfLid.set(alt, jid);
    }
  };
  let current: BotStatus = { botId, state: 'closed', lastError: null, qrDataUrl: null, updatedAt: new Date().toISOString() };
  const setState = (state: BotStatus['state']) => {
    current = { ...current, state, updatedAt: new Date().toISOString() };
    handlers.onStatus(current);
  };
  const record = (send: SimulatedSend) => {
    if (current.state !== 'open' || !journal) throw new Error(`bot ${botId} is not connected (${current.state})`);
    if (sends.has(send.waMessageId)) return;
    journal.append(send);
    sends.set(send.waMessageId, send);
  };
  return {
    async start() {
      journal = openJournal<SimulatedSend>(sentPath, journalOptions);
      for (const send of journal.entries) sends.set(send.waMessageId, send);
      setState('open');
    },
    async sendText(jid, text, waMessageId) {
      record({ jid, text, waMessageId, at: new Date().toISOString() });
    },
    async sendMedia(jid, media, waMessageId) {
      record({
        jid, text: media.caption ?? '', waMessageId, at: new Date().toISOString(),
        media: { mimeType: media.mimeType, bytes: media.data.length, sha256: createHash('sha256').update(media.data).digest('hex'), fileName: media.fileName },
      });
    },
    status: () => current,
    phoneJidForLid: async (lidJid) => phoneOfLid.get(lidJid) ?? null,
    requestPairingCode: async () => 'SIMULATE',
    async stop() {
      journal?.close();
      journal = null;
      setState('closed');
    },
    async inject(info) {
      if (current.state !== 'open') throw new Error(`bot ${botId} is not connected (${current.state})`);
      if (info.key) learnPairing(info.key);
      await handlers.onMessage(info);
    },
    sent: () => [...sends.values()],
  };
};
