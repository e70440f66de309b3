// Activities on task queue `bot-pod.<tenantId>`, served only by this tenant's pod: the one process
// holding its WhatsApp sockets.
import { ApplicationFailure } from '@temporalio/common';
import { EncryptionKeyError } from '../core/crypto/keyring.ts';
import { isTenantObjectKey, tenantPrefix } from '../core/object-keys.ts';
import type { BotPodActivities, SessionSnapshot } from '../core/temporal/bot-pod.ts';
import { RestoreRefusedError } from './restore-refused-error.ts';
import type { SentLog } from './sent-log.ts';
import { NotWaitingForPairingError, type Transport } from './transport.ts';

export type SessionStore = {
  snapshot(objectKey: string): Promise<SessionSnapshot>;
  /** Restores onto the empty sessions directory and reconnects the bots from it. */
  restore(objectKey: string): Promise<{ files: number }>;
};

/** Failures no retry can fix: they fail the activity at once with their reason. */
const finalOnRefusal = async <T>(work: () => Promise<T>): Promise<T> => {
  try {
    return await work();
  } catch (error) {
    if (error instanceof RestoreRefusedError || error instanceof EncryptionKeyError || error instanceof NotWaitingForPairingError) {
      throw ApplicationFailure.nonRetryable(error.message, error.name);
    }
    throw error;
  }
};

export const createBotPodActivities = (deps: {
  tenantId: string; transports: ReadonlyMap<string, Transport>; sentLog: SentLog; sessions: SessionStore;
  /** Reads a media object (at most MAX_MEDIA_BYTES) from S3. */
  readMedia: (objectKey: string) => Promise<Buffer>;
}): BotPodActivities => {
  const assertTenant = (tenantId: string) => {
    // A task for another tenant can only be a misrouted call: refuse it, never retry it.
    if (tenantId !== deps.tenantId) throw ApplicationFailure.nonRetryable(`this pod serves tenant ${deps.tenantId}, not ${tenantId}`, 'WrongTenant');
  };
  const transportOf = (tenantId: string, botId: string) => {
    assertTenant(tenantId);
    const transport = deps.transports.get(botId);
    if (!transport) throw ApplicationFailure.nonRetryable(`bot ${botId} is not active on this pod`, 'UnknownBot');
    return transport;
  };
  return {
    async sendText(input) {
      const transport = transportOf(input.tenantId, input.botId);
      const jid = input.toJid ?? `${input.toWaId}@s.whatsapp.net`;
      // A bot that is not connected fails the attempt; Temporal retries it with backoff.
      return deps.sentLog.sendOnce(input.idempotencyKey, (waMessageId) => transport.sendText(jid, input.text, waMessageId));
    },
    async sendMedia(input) {
      const transport = transportOf(input.tenantId, input.botId);
      // Tenant isolation: a pod sends only media stored under its own tenant's prefix.
      if (!isTenantObjectKey(input.objectKey, deps.tenantId)) {
        throw ApplicationFailure.nonRetryable(`media ${input.objectKey} is not under ${tenantPrefix(deps.tenantId)}`, 'WrongTenant');
      }
      const jid = input.toJid ?? `${input.toWaId}@s.whatsapp.net`;
      return deps.sentLog.sendOnce(input.idempotencyKey, async (waMessageId) => {
        const data = await deps.readMedia(input.objectKey);
        await transport.sendMedia(jid, { data, mimeType: input.mimeType, caption: input.caption ?? null, fileName: input.fileName ?? null }, waMessageId);
      });
    },
    async botStatus(input) {
      if (input.botId) return [transportOf(input.tenantId, input.botId).status()];
      assertTenant(input.tenantId);
      return [...deps.transports.values()].map((transport) => transport.status());
    },
    async requestPairingCode(input) {
      const transport = transportOf(input.tenantId, input.botId);
      return { code: await finalOnRefusal(() => transport.requestPairingCode(input.phoneE164)) };
    },
    async logoutBot(input) {
      await transportOf(input.tenantId, input.botId).logout();
    },
    async restartBot(input) {
      await transportOf(input.tenantId, input.botId).restart();
    },
    async snapshotSessions(input) {
      assertTenant(input.tenantId);
      return finalOnRefusal(() => deps.sessions.snapshot(input.objectKey));
    },
    async restoreSessions(input) {
      assertTenant(input.tenantId);
      return finalOnRefusal(() => deps.sessions.restore(input.objectKey));
    },
  };
};
