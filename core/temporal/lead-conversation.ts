import type { LeadField } from '../lead-info.ts';

// Contract of the lead conversation: the workflow id, the inbound signal, and the bot pod's send
// activity (task queue `bot-pod.<tenantId>`), shared by the bot pod, the worker and the API.

/** One workflow per lead: its messages are processed one at a time, in arrival order. */
export const leadWorkflowId = (tenantId: string, botId: string, waId: string): string => `lead/${tenantId}/${botId}/${waId}`;

/** Task queue served by a tenant's bot pod: the only process holding that tenant's WhatsApp sockets. */
export const botPodTaskQueue = (tenantId: string): string => `bot-pod.${tenantId}`;

export const LEAD_CONVERSATION_WORKFLOW = 'leadConversation';
export const INBOUND_SIGNAL = 'inbound';

export type InboundMessage = {
  readonly tenantId: string;
  readonly botId: string;
  readonly waId: string;
  readonly waMessageId: string;
  readonly text: string;
  readonly receivedAt: string;
  readonly pushName?: string | null;
  readonly phoneE164?: string | null;
  readonly lid?: string | null;
};

export type LeadConversationInput = {
  readonly tenantId: string;
  readonly botId: string;
  readonly waId: string;
  /** Messages received but not yet processed when the previous run continued as new. */
  readonly pending?: readonly InboundMessage[];
};

export type IngestResult = {
  readonly leadId: string;
  readonly duplicate: boolean;
  readonly score: number;
  readonly isQualified: boolean;
  readonly becameQualified: boolean;
  readonly matchedTags: readonly string[];
  /** Lead details still unknown, in the order the bot asks for them. */
  readonly missingFields: readonly LeadField[];
};

export type SendTextInput = {
  readonly tenantId: string;
  readonly botId: string;
  readonly toWaId: string;
  readonly text: string;
  /** Derived from the inbound message id: a retried send is recognised and not sent again. */
  readonly idempotencyKey: string;
};

export type SendTextResult = { readonly waMessageId: string; readonly alreadySent: boolean };

/** Activities every bot pod serves on its own task queue. */
export type BotPodActivities = {
  sendText(input: SendTextInput): Promise<SendTextResult>;
};
