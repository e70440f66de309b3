// Contract of a tenant's bot pod: its task queue and the activities it serves there (send,
// status and pairing, session snapshots), shared by the bot pod, the workflows that call it and the API.

/** Task queue served by a tenant's bot pod: the only process holding that tenant's WhatsApp sockets. */
export const botPodTaskQueue = (tenantId: string): string => `bot-pod.${tenantId}`;

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
  /** Ends the bot's WhatsApp session and removes its credentials from the volume: it waits for a new pairing. */
  logoutBot(input: { readonly tenantId: string; readonly botId: string }): Promise<void>;
  /** Closes the bot's socket and opens a new one with the stored credentials. */
  restartBot(input: { readonly tenantId: string; readonly botId: string }): Promise<void>;
  /** A consistent, compressed, encrypted snapshot of the pod's WhatsApp sessions, streamed to S3. */
  snapshotSessions(input: SnapshotSessionsInput): Promise<SessionSnapshot>;
  /** Restores a snapshot onto a pod whose sessions directory is empty, then reconnects its bots. */
  restoreSessions(input: SnapshotSessionsInput): Promise<{ readonly files: number }>;
};
