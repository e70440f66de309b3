import type { LeadField } from '../lead-conversation/lead-info.ts';
import type { MessageKind } from '../lead-conversation/message-kinds.ts';
import type { CatalogMatch } from '../lead-conversation/replies.ts';
import { tenantSearchAttributes } from './search-attributes.ts';

// Contract of the lead conversation: the workflow id, the inbound signal and the types its
// activities exchange, shared by the bot pod, the worker and the API. What the bot pod serves is
// in bot-pod.ts; the owner notification it starts, in owner-notification.ts.

/** One workflow per lead: its messages are processed one at a time, in arrival order. */
export const leadWorkflowId = (tenantId: string, botId: string, waId: string): string => `lead/${tenantId}/${botId}/${waId}`;

export const LEAD_CONVERSATION_WORKFLOW = 'leadConversation';
export const INBOUND_SIGNAL = 'inbound';

export type InboundMessage = {
  readonly tenantId: string;
  readonly botId: string;
  /**
   * The lead's routing key, chosen by the bot pod: one per person whatever form each message takes
   * (`bot-pods/identity-map.ts`): the first identifier the pod saw for that person, the phone's
   * digits when that first message brought the phone, otherwise the lid's.
   */
  readonly waId: string;
  readonly waMessageId: string;
  /** What the person typed, or a media's caption ('' when none); a location's `latitude,longitude`. */
  readonly text: string;
  /** Absent in messages recorded before kinds existed: text. */
  readonly kind?: MessageKind;
  readonly receivedAt: string;
  readonly pushName?: string | null;
  /** The sender's phone, when known for certain (a phone JID or Baileys' lid-to-phone mapping). */
  readonly phoneE164?: string | null;
  /** The sender's anonymous WhatsApp id (digits of `<lid>@lid`), when WhatsApp sent one. */
  readonly lid?: string | null;
  /** The chat to answer exactly as WhatsApp addressed it (`…@s.whatsapp.net` or `…@lid`). */
  readonly chatJid?: string | null;
};

export type LeadConversationInput = {
  readonly tenantId: string;
  readonly botId: string;
  readonly waId: string;
  /** Messages received but not yet processed when the previous run continued as new. */
  readonly pending?: readonly InboundMessage[];
  /**
   * A reply the previous run sent and left to be recorded with the ingest of the first of `pending`
   * (set only with them), so that the task that continued as new ran no local activity.
   */
  readonly unrecorded?: { readonly message: InboundMessage; readonly reply: OutboundRecord };
  /** The workflow ends after this long without a message (default 600). */
  readonly idleTimeoutSeconds?: number;
};

/**
 * The signal-with-start that hands an inbound message to its lead's workflow, starting it when it
 * does not run: the bot pod's delivery and a dead letter's replay send exactly this.
 */
export const inboundDelivery = (tenantId: string, message: InboundMessage, options: { taskQueue: string; idleTimeoutSeconds: number }) => ({
  workflowId: leadWorkflowId(tenantId, message.botId, message.waId),
  taskQueue: options.taskQueue,
  args: [{ tenantId, botId: message.botId, waId: message.waId, idleTimeoutSeconds: options.idleTimeoutSeconds }] as [LeadConversationInput],
  signal: INBOUND_SIGNAL,
  signalArgs: [message] as [InboundMessage],
  // Findable by tenant and bot from the start, even while no worker has run it yet.
  typedSearchAttributes: tenantSearchAttributes({ tenantId, botId: message.botId }),
});

export type IngestResult = {
  readonly leadId: string;
  readonly duplicate: boolean;
  readonly score: number;
  readonly isQualified: boolean;
  readonly becameQualified: boolean;
  /** The `lead.qualified` event written in the same transaction, when this message qualified the lead and the tenant has an active webhook to notify. */
  readonly qualifiedEventId: string | null;
  readonly matchedTags: readonly string[];
  /** Lead details still unknown among the tenant's fields, in the order the bot asks for them. */
  readonly missingFields: readonly LeadField[];
  readonly catalogMatches: readonly CatalogMatch[];
  /** The reply from the tenant's templates (empty for a duplicate). */
  readonly templateReply: string;
  /** True when a chat composer is configured: the workflow asks it for the reply. */
  readonly useChatComposer: boolean;
  /** True when scoring ran over its time budget: the message scored 0 (absent in results recorded before the budget). */
  readonly scoringTimedOut?: boolean;
  /**
   * The email-sequence enrolment this message's qualification wrote (the bot names a sequence and the
   * lead has an address): the workflow starts it. Absent in results recorded before enrolment existed.
   */
  readonly emailEnrollmentId?: string | null;
  /**
   * The bot's images this message asked for by keyword and not yet sent to the lead today: the
   * workflow sends each. Absent in results recorded before images were sent.
   */
  readonly imageSends?: readonly ImageSend[];
};

/** A reply the bot pod sent, to record on the lead; idempotent on the WhatsApp id the pod returned. */
export type OutboundRecord = {
  readonly tenantId: string;
  readonly botId: string;
  readonly leadId: string;
  /** The inbound message it answers. */
  readonly inReplyTo: string;
  readonly waMessageId: string;
  readonly text: string;
  /** Absent for a text reply (and in calls recorded before kinds existed). */
  readonly kind?: MessageKind;
};

/** One image to send, under the key `image:<inbound WhatsApp id>:<imageId>`. */
export type ImageSend = { readonly imageId: string; readonly objectKey: string; readonly contentType: string; readonly caption: string | null };

/** A message the lead conversation gave up on, and why (`<activity>: <error type>: <message>`). */
export type DeadLetterInput = { readonly message: InboundMessage; readonly reason: string };

export type ComposeReplyInput = {
  readonly tenantId: string;
  readonly botId: string;
  readonly leadId: string;
  readonly text: string;
  readonly ingest: IngestResult;
};

export type ComposedReply = { readonly text: string; readonly source: 'chat' | 'template' };
