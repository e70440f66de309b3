// The simulated WhatsApp network behind the Transport interface: inbound messages arrive over
// the pod's HTTP port shaped exactly like Baileys' proto.IWebMessageInfo, and what the bot sends
// is kept (on the volume, so a test can read it across pod restarts) and listed. A message id sent
// twice is one message, as on WhatsApp.
// Its session lives in the real auth store (sessions/<botId>/), so pairing by code, logout and
// restart go through the same files as with Baileys: a bot whose session directory does not exist
// yet is linked at once (the simulated phone scanned the QR: nothing written); after a logout the
// directory is empty and the bot waits for a pairing code, which the simulated phone "types" at once.
import { createHash, randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { proto } from '@whiskeysockets/baileys';
import type { BotStatus } from '../core/temporal/bot-pod.ts';
import type { BotSessionChange } from '../core/temporal/bot-sessions.ts';
import type { AuthStore } from './auth-store.ts';
import type { WriteGate } from './durable-file.ts';
import { openJournal, type Journal, type JournalOptions } from './journal.ts';
import { NotWaitingForPairingError, type Transport, type TransportHandlers } from './transport.ts';

/** The characters of a WhatsApp pairing code. */
const CODE_ALPHABET = '123456789ABCDEFGHJKLMNPQRSTVWXYZ';
const pairingCode = () => Array.from({ length: 8 }, () => CODE_ALPHABET[randomInt(CODE_ALPHABET.length)]).join('');

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
  /** Where the bot's session lives; without it the bot is always linked (no pairing, logout only changes its state). */
  session?: { readonly dir: string; readonly gate: WriteGate },
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
  const setState = (state: BotStatus['state'], lastError: string | null = null) => {
    current = { ...current, state, lastError, updatedAt: new Date().toISOString() };
    handlers.onStatus(current);
  };
  const history = (kind: BotSessionChange['kind'], reason: string | null = null, statusCode: number | null = null) =>
    handlers.onSessionChange?.({ kind, reason, statusCode });
  let store: AuthStore | null = null;
  // The auth store encodes with Baileys: loaded only once a session exists, so an idle simulator pod never loads Baileys.
  const openStore = async () => (store ??= session ? await (await import('./auth-store.ts')).openAuthStore(session.dir, session.gate) : null);
  /** Connects as Baileys would from the volume: open when the stored credentials are linked, else waiting for pairing. */
  const connectFromVolume = async () => {
    setState('connecting');
    history('connecting');
    const linked = !session || !existsSync(session.dir) || Boolean((await openStore())?.state.creds.me);
    if (linked) {
      setState('open');
      history('open');
    } else {
      setState('needs_pairing');
      history('pairing', 'waiting for a pairing code');
    }
  };
  /** The simulated phone entered the code: credentials and a signal key land on the volume, and WhatsApp asks for a restart, as it does. */
  const completePairing = async (phoneE164: string) => {
    const authStore = await openStore();
    if (!authStore || current.state !== 'needs_pairing') return;
    const digits = phoneE164.replace(/\D/g, '');
    authStore.state.creds.me = { id: `${digits}:1@s.whatsapp.net` };
    authStore.state.creds.registered = true;
    await authStore.saveCreds();
    await authStore.state.keys.set({ session: { [`${digits}.0`]: Buffer.from(digits) } });
    history('close', 'Stream Errored (restart required)', 515);
    await connectFromVolume();
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
      await connectFromVolume();
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
    async requestPairingCode(phoneE164) {
      if (current.state !== 'needs_pairing') throw new NotWaitingForPairingError(`bot ${botId} is not waiting for pairing (${current.state})`);
      history('pairing', 'pairing code requested');
      // Typed on the phone right after the code is shown, so the answer goes out first.
      setTimeout(() => void completePairing(phoneE164).catch((error: unknown) => setState('needs_pairing', String(error))), 100);
      return pairingCode();
    },
    async logout() {
      await (await openStore())?.clear();
      history('logged_out', 'logout requested through the API');
      setState('needs_pairing');
    },
    async restart() {
      history('close', 'restart requested through the API');
      // Read again from the volume, as a new socket would.
      store = null;
      await connectFromVolume();
    },
    async stop() {
      history('close', 'connection closed by the bot pod (stopping, or the bot is no longer active)');
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
