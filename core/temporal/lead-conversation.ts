import type { LeadField } from '../lead-info.ts';
import type { CatalogMatch } from '../replies.ts';

// Contract of the lead conversation: the workflow id, the inbound signal, and the bot pod's send
// activity (task queue `bot-pod.<tenantId>`), shared by the bot pod, the worker and the API.

/** One workflow per lead: its messages are processed one at a time, in arrival order. */
export const leadWorkflowId = (tenantId: string, botId: string, waId: string): string => `lead/${tenantId}/${botId}/${waId}`;

/** Task queue served by a tenant's bot pod: the only process holding that tenant's WhatsApp sockets. */
export const botPodTaskQueue = (tenantId: string): string => `bot-pod.${tenantId}`;

export const LEAD_CONVERSATION_WORKFLOW = 'leadConversation';
export const INBOUND_SIGNAL = 'inbound';

/** Owner notification of one lead event: the id makes a second start of the same delivery a no-op. */
export const ownerNotificationWorkflowId = (tenantId: string, eventId: string): string => `owner-notification/${tenantId}/${eventId}`;
export const OWNER_NOTIFICATION_WORKFLOW = 'ownerNotification';

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
  readonly text: string;
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
  /** The workflow ends after this long without a message (default 600). */
  readonly idleTimeoutSeconds?: number;
};

export type IngestResult = {
  readonly leadId: string;
  readonly duplicate: boolean;
  readonly score: number;
  readonly isQualified: boolean;
  readonly becameQualified: boolean;
  /** The `lead.qualified` event written in the same transaction, when this message qualified the lead. */
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
};

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

export type SendTextInput = {
  readonly tenantId: string;
  readonly botId: string;
  readonly toWaId: string;
  readonly text: string;
  /** Derived from the inbound message id: a retried send is recognised and not sent again. */
  readonly idempotencyKey: string;
  /** The chat to send to; without it the bot pod addresses `<toWaId>@s.whatsapp.net`. */
  readonly toJid?: string | null;
};

export type SendMediaInput = {
  readonly tenantId: string;
  readonly botId: string;
  readonly toWaId: string;
  readonly toJid?: string | null;
  /** The media in S3, under the tenant's own prefix `tenants/<tenantId>/`. */
  readonly objectKey: string;
  readonly mimeType: string;
  readonly caption?: string | null;
  readonly fileName?: string | null;
  readonly idempotencyKey: string;
};

export type SendTextResult = { readonly waMessageId: string; readonly alreadySent: boolean };

export type BotConnectionState = 'connecting' | 'open' | 'needs_pairing' | 'closed';

export type BotStatus = {
  readonly botId: string;
  readonly state: BotConnectionState;
  readonly lastError: string | null;
  /** The pairing QR as a PNG data URL while the bot waits to be paired. */
  readonly qrDataUrl: string | null;
  readonly updatedAt: string;
};

export type RequestPairingCodeInput = { readonly tenantId: string; readonly botId: string; readonly phoneE164: string };

export type SnapshotSessionsInput = {
  readonly tenantId: string;
  /** Where to write it; the same key on a retry overwrites the same object. */
  readonly objectKey: string;
};
export type SessionSnapshot = { readonly objectKey: string; readonly files: number; readonly bytes: number; readonly sha256: string };

/** Activities every bot pod serves on its own task queue. */
export type BotPodActivities = {
  sendText(input: SendTextInput): Promise<SendTextResult>;
  sendMedia(input: SendMediaInput): Promise<SendTextResult>;
  botStatus(input: { readonly tenantId: string; readonly botId?: string }): Promise<readonly BotStatus[]>;
  /** Pairing by code: the 8-character code the owner types on the phone instead of scanning the QR. */
  requestPairingCode(input: RequestPairingCodeInput): Promise<{ readonly code: string }>;
  /** A consistent, compressed, encrypted snapshot of the pod's WhatsApp sessions, streamed to S3. */
  snapshotSessions(input: SnapshotSessionsInput): Promise<SessionSnapshot>;
  /** Restores a snapshot onto a pod whose sessions directory is empty, then reconnects its bots. */
  restoreSessions(input: SnapshotSessionsInput): Promise<{ readonly files: number }>;
};
