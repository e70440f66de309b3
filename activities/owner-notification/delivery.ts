// Delivery of owner events to the tenant's webhooks. Each POST is signed; a failure throws so
// Temporal retries it with backoff, except answers that say retrying cannot help.
import { ApplicationFailure } from '@temporalio/common';
import { sql } from 'slonik';
import { z } from 'zod';
import type { WithTenant } from '../../core/db/with-tenant.ts';
import { signWebhook } from '../../core/owner-notification/webhook-signature.ts';
import { assertPublicTarget, WebhookTargetError } from './webhook-target.ts';

const webhookRow = z.object({ id: z.uuid(), url: z.string(), secret: z.string(), active: z.boolean() });
const eventRow = z.object({ id: z.uuid(), lead_id: z.uuid(), kind: z.string(), payload: z.record(z.string(), z.unknown()), created_at: z.string() });

// 408 and 429 ask to come back later; 409 and 425 may pass on a later try. Any other 4xx will not.
const RETRYABLE_CLIENT_ERRORS = new Set([408, 409, 425, 429]);

export type OwnerWebhookDelivery = { readonly webhookId: string; readonly status: number };

export const createOwnerNotificationActivities = (deps: {
  withTenant: WithTenant; timeoutMs: number; allowPrivateNetworks: boolean;
}) => ({
  async listOwnerWebhooks(input: { tenantId: string }): Promise<string[]> {
    return deps.withTenant(input.tenantId, async (tx) => [...await tx.anyFirst(sql.type(z.object({ id: z.uuid() }))`
      SELECT id FROM owner_webhooks WHERE tenant_id = ${input.tenantId} AND active ORDER BY created_at, id`)]);
  },

  async deliverOwnerWebhook(input: { tenantId: string; eventId: string; webhookId: string }): Promise<OwnerWebhookDelivery | null> {
    const found = await deps.withTenant(input.tenantId, async (tx) => ({
      webhook: await tx.maybeOne(sql.type(webhookRow)`
        SELECT id, url, secret, active FROM owner_webhooks WHERE tenant_id = ${input.tenantId} AND id = ${input.webhookId}`),
      event: await tx.maybeOne(sql.type(eventRow)`
        SELECT id, lead_id, kind, payload, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_at
        FROM lead_events WHERE tenant_id = ${input.tenantId} AND id = ${input.eventId}`),
    }));
    // Removed or switched off since the event: nothing to deliver (a change of mind, not a failure).
    if (!found.webhook?.active || !found.event) return null;
    const { webhook, event } = found;
    const url = new URL(webhook.url);
    if (!deps.allowPrivateNetworks) {
      try {
        await assertPublicTarget(url);
      } catch (error) {
        if (error instanceof WebhookTargetError) throw ApplicationFailure.nonRetryable(error.message, 'WebhookTargetRefused');
        throw error;
      }
    }
    const body = JSON.stringify({
      id: event.id, type: event.kind, tenantId: input.tenantId, leadId: event.lead_id,
      createdAt: event.created_at, data: event.payload,
    });
    const response = await fetch(url, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.timeout(deps.timeoutMs),
      headers: { 'content-type': 'application/json', 'user-agent': 'BotInteligente-Webhooks/1', ...signWebhook(webhook.secret, event.id, body, new Date()) },
      body,
    });
    await response.body?.cancel();
    if (response.ok) return { webhookId: webhook.id, status: response.status };
    const reason = `webhook ${url.origin}${url.pathname} answered ${response.status} to event ${event.id}`;
    if (response.status >= 400 && response.status < 500 && !RETRYABLE_CLIENT_ERRORS.has(response.status)) {
      throw ApplicationFailure.nonRetryable(reason, 'WebhookRefused');
    }
    throw ApplicationFailure.retryable(reason, 'WebhookUnavailable');
  },
});

export type OwnerNotificationActivities = ReturnType<typeof createOwnerNotificationActivities>;
