// Delivery of owner events to the tenant's webhooks, each POST signed (../webhooks/post-signed-webhook.ts)
// and each attempt written to the delivery log (./delivery-log.ts). The secret is read on every
// attempt, so an attempt after a rotation is signed with the new secret.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { sql } from 'slonik';
import { z } from 'zod';
import type { Keyring } from '../../core/crypto/keyring.ts';
import type { WithTenant } from '../../core/db/with-tenant.ts';
import { webhookSecretOf } from '../../core/owner-notification/webhook-secret.ts';
import { nextOwnerWebhookRetry, type OwnerWebhookAttempt, type OwnerWebhookTestInput } from '../../core/temporal/owner-notification.ts';
import { attemptDelivery } from './attempt.ts';
import { recordDeliveryAttempt } from './delivery-log.ts';

const webhookRow = z.object({
  id: z.uuid(), url: z.string(), secret: z.string().nullable(), secret_key_id: z.string().nullable(), secret_sealed: z.instanceof(Buffer).nullable(),
  active: z.boolean(),
});
const eventRow = z.object({ id: z.uuid(), lead_id: z.uuid(), kind: z.string(), payload: z.record(z.string(), z.unknown()), created_at: z.string() });

export type OwnerWebhookDelivery = { readonly webhookId: string; readonly status: number };

export const createOwnerNotificationActivities = (deps: {
  withTenant: WithTenant; timeoutMs: number; allowPrivateNetworks: boolean; keyring: () => Keyring;
}) => {
  const webhookOf = (tenantId: string, webhookId: string) => deps.withTenant(tenantId, (tx) => tx.maybeOne(sql.type(webhookRow)`
    SELECT id, url, secret, secret_key_id, secret_sealed, active FROM owner_webhooks WHERE tenant_id = ${tenantId} AND id = ${webhookId}`));
  // The secret is opened on every attempt: an attempt after a rotation signs with the new one.
  const secretOf = (tenantId: string, webhook: z.infer<typeof webhookRow>) => {
    try {
      return webhookSecretOf(deps.keyring, {
        tenantId, webhookId: webhook.id, secret: webhook.secret, secretKeyId: webhook.secret_key_id, secretSealed: webhook.secret_sealed,
      });
    } catch (error) {
      // Its key rotated out of the keyring, or the row altered: no retry can sign. Rotating the secret through the API mends it.
      throw ApplicationFailure.nonRetryable(`the secret of webhook ${webhook.id} does not open: ${(error as Error).message}`, 'WebhookSecretUnreadable');
    }
  };
  const send = (tenantId: string, webhook: z.infer<typeof webhookRow>, eventId: string, body: string) => attemptDelivery({
    url: new URL(webhook.url), eventId, body, timeoutMs: deps.timeoutMs, allowPrivateNetworks: deps.allowPrivateNetworks, secret: secretOf(tenantId, webhook),
  });

  return {
    async listOwnerWebhooks(input: { tenantId: string }): Promise<string[]> {
      return deps.withTenant(input.tenantId, async (tx) => [...await tx.anyFirst(sql.type(z.object({ id: z.uuid() }))`
        SELECT id FROM owner_webhooks WHERE tenant_id = ${input.tenantId} AND active ORDER BY created_at, id`)]);
    },

    async deliverOwnerWebhook(input: { tenantId: string; eventId: string; webhookId: string }): Promise<OwnerWebhookDelivery | null> {
      const [webhook, event] = await Promise.all([webhookOf(input.tenantId, input.webhookId), deps.withTenant(input.tenantId, (tx) => tx.maybeOne(sql.type(eventRow)`
        SELECT id, lead_id, kind, payload, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_at
        FROM lead_events WHERE tenant_id = ${input.tenantId} AND id = ${input.eventId}`))]);
      // Removed or switched off since the event: nothing to deliver (a change of mind, not a failure).
      if (!webhook?.active || !event) return null;
      const body = JSON.stringify({
        id: event.id, type: event.kind, tenantId: input.tenantId, leadId: event.lead_id, createdAt: event.created_at, data: event.payload,
      });
      const result = await send(input.tenantId, webhook, event.id, body);
      const { attempt, scheduledTimestampMs } = Context.current().info;
      const retried = result.failure !== null && !result.failure.nonRetryable;
      await deps.withTenant(input.tenantId, (tx) => recordDeliveryAttempt(tx, {
        tenantId: input.tenantId, webhookId: webhook.id, eventId: event.id, eventType: event.kind, attempt, result, attemptedAt: result.attemptedAt,
        nextRetryAt: retried ? nextOwnerWebhookRetry(attempt, Date.now(), scheduledTimestampMs) : null,
      }));
      if (result.failure) throw result.failure;
      return { webhookId: webhook.id, status: result.statusCode! };
    },

    /** A signed `webhook.test` event, once, to an active or disabled webhook; null when it does not exist. */
    async deliverOwnerWebhookTest(input: OwnerWebhookTestInput): Promise<OwnerWebhookAttempt | null> {
      const webhook = await webhookOf(input.tenantId, input.webhookId);
      if (!webhook) return null;
      const body = JSON.stringify({
        id: input.eventId, type: 'webhook.test', tenantId: input.tenantId, createdAt: new Date().toISOString(), data: { webhookId: webhook.id },
      });
      const { delivered, statusCode, latencyMs, error, attemptedAt } = await send(input.tenantId, webhook, input.eventId, body);
      const result = { delivered, statusCode, latencyMs, error };
      await deps.withTenant(input.tenantId, (tx) => recordDeliveryAttempt(tx, {
        tenantId: input.tenantId, webhookId: webhook.id, eventId: input.eventId, eventType: 'webhook.test', attempt: 1, result, attemptedAt, nextRetryAt: null,
      }));
      return result;
    },
  };
};

export type OwnerNotificationActivities = ReturnType<typeof createOwnerNotificationActivities>;
