// From a Baileys `messages.upsert` entry to the platform's InboundMessage, or null for what the
// bot does not answer: its own messages, status broadcasts, groups (when ignored), messages
// without text. Pure: the caller supplies Baileys' lid-to-phone mapping and the routing key.
import type { proto } from '@whiskeysockets/baileys';
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

/** The text a person typed or chose, from every message kind that carries one. */
export const textOf = (message: proto.IMessage | null | undefined): string | null => {
  if (!message) return null;
  // Wrappers that carry the real message inside.
  const inner = message.ephemeralMessage?.message ?? message.viewOnceMessage?.message ?? message.viewOnceMessageV2?.message
    ?? message.documentWithCaptionMessage?.message ?? message.editedMessage?.message;
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

export const toInboundMessage = async (
  info: proto.IWebMessageInfo, context: InboundContext,
): Promise<InboundMessage | null> => {
  const key = info.key;
  const chatJid = key?.remoteJid;
  if (!key || !chatJid || key.fromMe || !key.id) return null;
  if (chatJid === 'status@broadcast' || chatJid.endsWith('@broadcast') || chatJid.endsWith('@newsletter')) return null;
  const isGroup = chatJid.endsWith('@g.us');
  if (isGroup && context.ignoreGroups) return null;
  const text = textOf(info.message);
  if (text === null) return null;

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
    text,
    receivedAt: new Date(seconds > 0 ? seconds * 1000 : Date.now()).toISOString(),
    pushName: info.pushName ?? null,
    phoneE164: phoneDigits ? `+${phoneDigits}` : null,
    lid,
    // Groups are answered in private, to the person.
    chatJid: isGroup ? sender : chatJid,
  };
};
