// Contract of the owner notification: one workflow per owner event, delivering it to the tenant's webhooks.
export const OWNER_NOTIFICATION_WORKFLOW = 'ownerNotification';

export type OwnerNotificationInput = { readonly tenantId: string; readonly eventId: string };

/** Owner notification of one lead event: the id makes a second start of the same delivery a no-op. */
export const ownerNotificationWorkflowId = (tenantId: string, eventId: string): string => `owner-notification/${tenantId}/${eventId}`;

/**
 * How Temporal retries one delivery: an owner's endpoint may be down for hours, so back off up to
 * 10 minutes between tries, for a day. The delivery log computes each attempt's next retry from it.
 */
export const OWNER_WEBHOOK_RETRY = { initialIntervalMs: 1_000, backoffCoefficient: 2, maximumIntervalMs: 600_000, scheduleToCloseMs: 86_400_000 } as const;

/** When Temporal runs the attempt after `attempt` (1-based), or null when that would be past the day. */
export const nextOwnerWebhookRetry = (attempt: number, failedAtMs: number, firstScheduledMs: number): Date | null => {
  const { initialIntervalMs, backoffCoefficient, maximumIntervalMs, scheduleToCloseMs } = OWNER_WEBHOOK_RETRY;
  const next = failedAtMs + Math.min(initialIntervalMs * backoffCoefficient ** (attempt - 1), maximumIntervalMs);
  return next > firstScheduledMs + scheduleToCloseMs ? null : new Date(next);
};

/** A test delivery of one webhook (`webhook.test`), started by the API, which waits for its answer. */
export const OWNER_WEBHOOK_TEST_WORKFLOW = 'testOwnerWebhook';
export const ownerWebhookTestWorkflowId = (tenantId: string, webhookId: string, eventId: string): string =>
  `owner-webhook-test/${tenantId}/${webhookId}/${eventId}`;
export type OwnerWebhookTestInput = { readonly tenantId: string; readonly webhookId: string; readonly eventId: string };

/** One attempt as the receiver answered it: a status code (null without an answer), the time it took, why it failed. */
export type OwnerWebhookAttempt = {
  readonly delivered: boolean;
  readonly statusCode: number | null;
  readonly latencyMs: number;
  readonly error: string | null;
};
