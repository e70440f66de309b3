// What the bot pod needs from a WhatsApp connection, served by Baileys or by the simulator.
import type { proto } from '@whiskeysockets/baileys';
import type { BotStatus } from '../core/temporal/bot-pod.ts';

export type TransportHandlers = {
  /** A message WhatsApp delivered as new (`messages.upsert` of type `notify`). */
  onMessage(info: proto.IWebMessageInfo): Promise<void>;
  onStatus(status: BotStatus): void;
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
  requestPairingCode(phoneE164: string): Promise<string>;
  stop(): Promise<void>;
};
