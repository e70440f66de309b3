// From a Baileys `messages.upsert` entry to the platform's InboundMessage, or null for what the
// bot does not answer: its own messages, status broadcasts, groups (when ignored), messages
// that are neither text nor media a person sent (reactions, edits, deletes, protocol messages). Pure: the caller supplies Baileys' lid-to-phone mapping and the routing key.
import type { proto } from '@whiskeysockets/baileys';
import type { MessageKind } from '../core/lead-conversation/message-kinds.ts';
import type { InboundMessage } from '../core/temporal/lead-conversation.ts';
import type { SenderIdentity } from './identity-map.ts';

export type InboundContext = {
  readonly tenantId: string;
  readonly botId: string;
  readonly ignoreGroups: boolean;
  /** Baileys' own mapping (`signalRepository.lidMapping.getPNForLID`), as a phone JID or null. */
  readonly phoneJidForLid: (lidJid: string) => Promise<string | null>;
  /** The person's one routing key (`IdentityMap.routingKey`), whichever identifiers this message carries. */
  readonly routingKey: (identity: SenderIdentity) => string;
};

const PHONE_SERVER = '@s.whatsapp.net';
const LID_SERVER = '@lid';

/** `5511999990000:12@s.whatsapp.net` → `5511999990000` (device suffix dropped). */
const userOf = (jid: string) => jid.split('@')[0]!.split(':')[0]!;
const isPhoneJid = (jid: string | null | undefined): jid is string => !!jid && jid.endsWith(PHONE_SERVER);
const isLidJid = (jid: string | null | undefined): jid is string => !!jid && jid.endsWith(LID_SERVER);

/** Wrappers that carry the real message inside. */
const unwrap = (message: proto.IMessage): proto.IMessage | null | undefined =>
  message.ephemeralMessage?.message ?? message.viewOnceMessage?.message ?? message.viewOnceMessageV2?.message
    ?? message.documentWithCaptionMessage?.message;

/** The text a person typed or chose, from every message kind that carries one. */
export const textOf = (message: proto.IMessage | null | undefined): string | null => {
  if (!message) return null;
  const inner = unwrap(message) ?? message.editedMessage?.message;
  if (inner) return textOf(inner);
  const text = message.conversation
    ?? message.extendedTextMessage?.text
    ?? message.imageMessage?.caption
    ?? message.videoMessage?.caption
    ?? message.documentMessage?.caption
    ?? message.buttonsResponseMessage?.selectedDisplayText
    ?? message.templateButtonReplyMessage?.selectedDisplayText
    ?? message.listResponseMessage?.title
    ?? message.listResponseMessage?.singleSelectReply?.selectedRowId;
  return text && text.trim() !== '' ? text : null;
};

/**
 * A message that is not text but a person sent it (a voice note, a sticker, a location, media):
 * its kind, and its caption or a location's coordinates as its text ('' when none).
 */
export const mediaOf = (message: proto.IMessage | null | undefined): { kind: MessageKind; text: string } | null => {
  if (!message) return null;
  const inner = unwrap(message);
  if (inner) return mediaOf(inner);
  if (message.audioMessage) return { kind: 'audio', text: '' };
  if (message.stickerMessage) return { kind: 'sticker', text: '' };
  if (message.imageMessage) return { kind: 'image', text: message.imageMessage.caption?.trim() ?? '' };
  if (message.videoMessage) return { kind: 'video', text: message.videoMessage.caption?.trim() ?? '' };
  if (message.documentMessage) return { kind: 'document', text: message.documentMessage.caption?.trim() ?? '' };
  const location = message.locationMessage ?? message.liveLocationMessage;
  if (location) return { kind: 'location', text: `${location.degreesLatitude ?? 0},${location.degreesLongitude ?? 0}` };
  return null;
};

/** What the bot answers: text typed or chosen (kind text), else media a person sent; null for the rest. */
const contentOf = (message: proto.IMessage | null | undefined): { kind: MessageKind; text: string } | null => {
  const media = mediaOf(message);
  // A caption is the person's words: the message is answered as text, and kept as its media kind.
  if (media) return media;
  const text = textOf(message);
  return text === null ? null : { kind: 'text', text };
};

export const toInboundMessage = async (
  info: proto.IWebMessageInfo, context: InboundContext,
): Promise<InboundMessage | null> => {
  const key = info.key;
  const chatJid = key?.remoteJid;
  if (!key || !chatJid || key.fromMe || !key.id) return null;
  if (chatJid === 'status@broadcast' || chatJid.endsWith('@broadcast') || chatJid.endsWith('@newsletter')) return null;
  const isGroup = chatJid.endsWith('@g.us');
  if (isGroup && context.ignoreGroups) return null;
  const content = contentOf(info.message);
  if (content === null) return null;

  // The sender: in a group the participant, else the chat. WhatsApp may give the other form
  // (phone or lid) in the *Alt field.
  const sender = isGroup ? key.participant : chatJid;
  const senderAlt = isGroup ? (key as { participantAlt?: string }).participantAlt : (key as { remoteJidAlt?: string }).remoteJidAlt;
  if (!sender) return null;
  const lidJid = isLidJid(sender) ? sender : isLidJid(senderAlt) ? senderAlt : null;
  const phoneJid = isPhoneJid(sender) ? sender : isPhoneJid(senderAlt) ? senderAlt : lidJid ? await context.phoneJidForLid(lidJid) : null;
  const phoneDigits = phoneJid ? userOf(phoneJid) : null;
  const lid = lidJid ? userOf(lidJid) : null;
  if (!phoneDigits && !lid) return null;
  const waId = context.routingKey({ phone: phoneDigits, lid });
  const seconds = Number(info.messageTimestamp ?? 0);
  return {
    tenantId: context.tenantId,
    botId: context.botId,
    waId,
    waMessageId: key.id,
    text: content.text,
    // Text stays unmarked, as before kinds existed.
    ...(content.kind === 'text' ? {} : { kind: content.kind }),
    receivedAt: new Date(seconds > 0 ? seconds * 1000 : Date.now()).toISOString(),
    pushName: info.pushName ?? null,
    phoneE164: phoneDigits ? `+${phoneDigits}` : null,
    lid,
    // Groups are answered in private, to the person.
    chatJid: isGroup ? sender : chatJid,
  };
};
