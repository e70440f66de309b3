// What the bot pod needs from a WhatsApp connection, served by Baileys or by the simulator.
import type { proto } from '@whiskeysockets/baileys';
import type { BotStatus } from '../core/temporal/bot-pod.ts';
import type { BotSessionChange } from '../core/temporal/bot-sessions.ts';

/** A pairing code asked of a bot that is not waiting to be paired (already paired, or still connecting). */
export class NotWaitingForPairingError extends Error {
  override readonly name = 'NotWaitingForPairing';
}

export type TransportHandlers = {
  /** A message WhatsApp delivered as new (`messages.upsert` of type `notify`). */
  onMessage(info: proto.IWebMessageInfo): Promise<void>;
  onStatus(status: BotStatus): void;
  /** A change for the bot's connection history (the pod reports it to the platform). */
  onSessionChange?(change: BotSessionChange): void;
};

export type OutboundMedia = {
  readonly data: Buffer;
  readonly mimeType: string;
  readonly caption: string | null;
  readonly fileName: string | null;
};

export type Transport = {
  start(): Promise<void>;
  /** Sends under the given WhatsApp message id; resolves once WhatsApp accepted it. */
  sendText(jid: string, text: string, waMessageId: string): Promise<void>;
  sendMedia(jid: string, media: OutboundMedia, waMessageId: string): Promise<void>;
  status(): BotStatus;
  /** Baileys' lid-to-phone mapping, learned from traffic; null when unknown. */
  phoneJidForLid(lidJid: string): Promise<string | null>;
  /** Throws NotWaitingForPairingError unless the bot waits to be paired. */
  requestPairingCode(phoneE164: string): Promise<string>;
  /** Ends the WhatsApp session, removes its credentials from the volume and waits for a new pairing. */
  logout(): Promise<void>;
  /** Closes the socket and opens a new one with the stored credentials. */
  restart(): Promise<void>;
  stop(): Promise<void>;
};
