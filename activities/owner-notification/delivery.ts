// Delivery of owner events to the tenant's webhooks, each POST signed (../webhooks/post-signed-webhook.ts).
import { ApplicationFailure } from '@temporalio/common';
import { sql } from 'slonik';
import { z } from 'zod';
import type { WithTenant } from '../../core/db/with-tenant.ts';
import { postSignedWebhook } from '../webhooks/post-signed-webhook.ts';
import { assertPublicTarget, WebhookTargetError } from './webhook-target.ts';

const webhookRow = z.object({ id: z.uuid(), url: z.string(), secret: z.string(), active: z.boolean() });
const eventRow = z.object({ id: z.uuid(), lead_id: z.uuid(), kind: z.string(), payload: z.record(z.string(), z.unknown()), created_at: z.string() });

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
    return { webhookId: webhook.id, status: await postSignedWebhook({ url, secret: webhook.secret, eventId: event.id, body, timeoutMs: deps.timeoutMs }) };
  },
});

export type OwnerNotificationActivities = ReturnType<typeof createOwnerNotificationActivities>;
