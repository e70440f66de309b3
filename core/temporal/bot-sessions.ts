// Contract of a bot's WhatsApp session managed through the API: the commands the API sends to the
// tenant's bot pod (through a short workflow on the platform queue, which calls the pod's activity
// and fails fast when no pod answers), and the connection history the pod reports back.

export const BOT_SESSION_EVENT_KINDS = ['connecting', 'open', 'close', 'logged_out', 'pairing'] as const;
export type BotSessionEventKind = (typeof BOT_SESSION_EVENT_KINDS)[number];

/** A state change a transport saw, with its reason (a disconnect's message, "logout requested", ...). */
export type BotSessionChange = {
  readonly kind: BotSessionEventKind;
  readonly reason: string | null;
  /** Baileys' DisconnectReason code of a close. */
  readonly statusCode: number | null;
};

/** As reported by the pod: the id it chose makes a repeated delivery one row. */
export type BotSessionEvent = BotSessionChange & { readonly id: string; readonly botId: string; readonly occurredAt: string };

export type RecordBotSessionEventsInput = { readonly tenantId: string; readonly events: readonly BotSessionEvent[] };

export const RECORD_BOT_SESSION_EVENTS_WORKFLOW = 'recordBotSessionEvents';
/** One delivery per batch, named by its first event: a pod that retries joins or repeats the same one. */
export const recordBotSessionEventsWorkflowId = (tenantId: string, firstEventId: string): string => `bot-sessions/${tenantId}/events/${firstEventId}`;

export type BotSessionCommandInput = { readonly tenantId: string; readonly botId: string };

/** Failure types of a session command the API answers as a conflict: the pod is there, the bot's state forbids it. */
export const BOT_SESSION_CONFLICTS = ['NotWaitingForPairing', 'UnknownBot'] as const;
