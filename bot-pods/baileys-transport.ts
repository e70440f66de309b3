// The real WhatsApp connection of one bot: a Baileys 7 socket on the durable auth store, with
// reconnects on jittered exponential backoff. A logged-out session is not retried in a loop: its
// state is cleared and the bot waits in `needs_pairing`, publishing a fresh QR (or a pairing code
// on request) until the owner pairs it again.
import { setTimeout as sleep } from 'node:timers/promises';
import type { WASocket } from '@whiskeysockets/baileys';
import type { Logger } from 'pino';
import { backoffDelayMs } from '../core/backoff.ts';
import type { BotStatus } from '../core/temporal/bot-pod.ts';
import type { BotSessionChange } from '../core/temporal/bot-sessions.ts';
import { openAuthStore, type AuthStore } from './auth-store.ts';
import { Browsers, DisconnectReason, makeCacheableSignalKeyStore, makeWASocket } from './baileys-lib.ts';
import type { WriteGate } from './durable-file.ts';
import { createInboundQueue } from './inbound-queue.ts';
import { NotWaitingForPairingError, type Transport, type TransportHandlers } from './transport.ts';

const RECONNECT_BASE_MS = 1_000;
const LOGOUT_NOTICE_MS = 5_000;

/** Statuses after which a new socket with the same credentials will not help. */
const NEEDS_PAIRING = new Set<number>([DisconnectReason.loggedOut, DisconnectReason.badSession]);

export const createBaileysTransport = (options: {
  botId: string; sessionDir: string; gate: WriteGate; reconnectMaxMs: number; logger: Logger; handlers: TransportHandlers;
}): Transport => {
  const { botId, sessionDir, gate, reconnectMaxMs, logger, handlers } = options;
  let store: AuthStore | null = null;
  let socket: WASocket | null = null;
  let stopping = false;
  let attempt = 0;
  let reconnectTimer: NodeJS.Timeout | null = null;
  let current: BotStatus = { botId, state: 'closed', lastError: null, qrDataUrl: null, updatedAt: new Date().toISOString() };

  // One after another, so the outbox keeps WhatsApp's order; held while the volume refuses them.
  const inbound = createInboundQueue((info: Parameters<TransportHandlers['onMessage']>[0]) => handlers.onMessage(info), {
    isStopping: () => stopping,
    onHeld: (error, retry) => logger.error({ botId, err: error, retry }, 'inbound message held in memory: the volume cannot persist it'),
    onDropped: (error) => logger.error({ botId, err: error }, 'inbound message not stored'),
  });

  const publish = (change: Partial<BotStatus>) => {
    current = { ...current, ...change, updatedAt: new Date().toISOString() };
    handlers.onStatus(current);
  };

  const record = (kind: BotSessionChange['kind'], reason: string | null = null, statusCode: number | null = null) =>
    handlers.onSessionChange?.({ kind, reason, statusCode });

  const connect = () => {
    if (stopping || !store) return;
    publish({ state: current.state === 'needs_pairing' ? 'needs_pairing' : 'connecting' });
    record('connecting');
    let qrShown = false;
    const sock = makeWASocket({
      auth: { creds: store.state.creds, keys: makeCacheableSignalKeyStore(store.state.keys, logger) },
      logger,
      browser: Browsers.ubuntu('BotInteligente'),
      markOnlineOnConnect: false,
      syncFullHistory: false,
    });
    socket = sock;
    // A refused write (full volume) is logged, not an unhandled rejection that ends the pod with
    // the messages it holds; the next update writes the credentials whole again.
    sock.ev.on('creds.update', () => {
      void store?.saveCreds().catch((error: unknown) => logger.error({ botId, err: error }, 'credentials not saved'));
    });
    sock.ev.on('messages.upsert', ({ messages, type }) => {
      if (type !== 'notify') return;
      for (const info of messages) inbound.push(info);
    });
    sock.ev.on('connection.update', (update) => {
      // A socket taken out of service (stop, logout, restart) reports nothing more.
      if (socket !== sock) return;
      if (update.qr) {
        // The QR rotates every ~20 s: the history notes the first of each socket.
        if (!qrShown) record('pairing', 'QR code published');
        qrShown = true;
        // qrcode loads at the first QR: a paired bot never needs it.
        const qr = update.qr;
        void import('qrcode').then(({ default: QRCode }) => QRCode.toDataURL(qr)).then((qrDataUrl) => publish({ state: 'needs_pairing', qrDataUrl }));
      }
      if (update.connection === 'open') {
        attempt = 0;
        publish({ state: 'open', lastError: null, qrDataUrl: null });
        record('open');
      }
      if (update.connection !== 'close') return;
      socket = null;
      const error = update.lastDisconnect?.error as (Error & { output?: { statusCode?: number } }) | undefined;
      const statusCode = error?.output?.statusCode;
      const lastError = error ? `${error.message}${statusCode ? ` (${statusCode})` : ''}` : null;
      record('close', error?.message.slice(0, 500) || null, statusCode ?? null);
      if (stopping) return publish({ state: 'closed', lastError });
      if (statusCode !== undefined && NEEDS_PAIRING.has(statusCode)) {
        logger.warn({ botId, statusCode }, 'session logged out: cleared, waiting for pairing');
        record('logged_out', 'WhatsApp ended the session (logged out from the phone, or a bad session)', statusCode);
        attempt = 0;
        publish({ state: 'needs_pairing', lastError, qrDataUrl: null });
        void store!.clear().then(connect);
        return;
      }
      attempt += 1;
      const delayMs = statusCode === DisconnectReason.restartRequired ? 0 : backoffDelayMs(attempt, RECONNECT_BASE_MS, reconnectMaxMs);
      logger.info({ botId, statusCode, attempt, delayMs }, 'connection closed: reconnecting');
      publish({ state: 'connecting', lastError });
      reconnectTimer = setTimeout(connect, delayMs);
    });
  };

  /** Takes the socket out of service, so its close is not handled as a disconnect. */
  const detach = () => {
    if (reconnectTimer) clearTimeout(reconnectTimer);
    reconnectTimer = null;
    const sock = socket;
    socket = null;
    return sock;
  };

  return {
    async start() {
      store = await openAuthStore(sessionDir, gate);
      connect();
    },
    async sendText(jid, text, waMessageId) {
      if (!socket || current.state !== 'open') throw new Error(`bot ${botId} is not connected (${current.state})`);
      await socket.sendMessage(jid, { text }, { messageId: waMessageId });
    },
    async sendMedia(jid, media, waMessageId) {
      if (!socket || current.state !== 'open') throw new Error(`bot ${botId} is not connected (${current.state})`);
      const caption = media.caption ?? undefined;
      const content = media.mimeType.startsWith('image/') ? { image: media.data, caption, mimetype: media.mimeType }
        : media.mimeType.startsWith('video/') ? { video: media.data, caption, mimetype: media.mimeType }
          : media.mimeType.startsWith('audio/') ? { audio: media.data, mimetype: media.mimeType }
            : { document: media.data, caption, mimetype: media.mimeType, fileName: media.fileName ?? 'file' };
      await socket.sendMessage(jid, content, { messageId: waMessageId });
    },
    status: () => current,
    async phoneJidForLid(lidJid) {
      return socket ? socket.signalRepository.lidMapping.getPNForLID(lidJid) : null;
    },
    async requestPairingCode(phoneE164) {
      if (!socket || current.state !== 'needs_pairing') throw new NotWaitingForPairingError(`bot ${botId} is not waiting for pairing (${current.state})`);
      const code = await socket.requestPairingCode(phoneE164.replace(/\D/g, ''));
      record('pairing', 'pairing code requested');
      return code;
    },
    async logout() {
      const sock = detach();
      // Tells WhatsApp to unlink this device, for a few seconds at most (the activity has ten); the
      // credentials go from the volume even when WhatsApp cannot be told.
      if (sock && store?.state.creds.me) {
        const told = sock.logout('logout requested').catch((error: unknown) => logger.warn({ botId, err: error }, 'WhatsApp not told of the logout'));
        await Promise.race([told, sleep(LOGOUT_NOTICE_MS)]);
      }
      void sock?.end(undefined);
      await store!.clear();
      record('logged_out', 'logout requested through the API');
      publish({ state: 'needs_pairing', lastError: null, qrDataUrl: null });
      connect();
    },
    async restart() {
      const sock = detach();
      void sock?.end(undefined);
      record('close', 'restart requested through the API');
      attempt = 0;
      connect();
    },
    async stop() {
      stopping = true;
      if (reconnectTimer) clearTimeout(reconnectTimer);
      // Not awaited: Baileys closes its websocket in the background and catches that close's errors;
      // stopping waits for what must land on the volume (the inbound queue, the credentials).
      void socket?.end(undefined);
      socket = null;
      await inbound.settled();
      await store?.saveCreds();
      record('close', 'connection closed by the bot pod (stopping, or the bot is no longer active)');
      publish({ state: 'closed' });
    },
  };
};
