import { proxyActivities } from '@temporalio/workflow';
import type { OwnerNotificationActivities } from '../activities/owner-notification/delivery.ts';
import { OWNER_WEBHOOK_RETRY, type OwnerNotificationInput, type OwnerWebhookAttempt, type OwnerWebhookTestInput } from '../core/temporal/owner-notification.ts';
import { failureReason } from '../core/temporal/failure-reason.ts';
import { NON_RETRYABLE_PLATFORM_ERRORS } from '../core/temporal/retry.ts';

const { listOwnerWebhooks } = proxyActivities<OwnerNotificationActivities>({ startToCloseTimeout: '30 seconds' });
const { deliverOwnerWebhook } = proxyActivities<OwnerNotificationActivities>({
  startToCloseTimeout: '1 minute',
  scheduleToCloseTimeout: OWNER_WEBHOOK_RETRY.scheduleToCloseMs,
  retry: {
    initialInterval: OWNER_WEBHOOK_RETRY.initialIntervalMs, backoffCoefficient: OWNER_WEBHOOK_RETRY.backoffCoefficient,
    maximumInterval: OWNER_WEBHOOK_RETRY.maximumIntervalMs, nonRetryableErrorTypes: NON_RETRYABLE_PLATFORM_ERRORS,
  },
});
// A test delivery is one attempt: its answer is what the admin asked for, retrying would hide it.
const { deliverOwnerWebhookTest } = proxyActivities<OwnerNotificationActivities>({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 1 } });

export type OwnerNotificationResult = {
  readonly delivered: readonly { webhookId: string; status: number }[];
  readonly failed: readonly { webhookId: string; reason: string }[];
};

/** Delivers one owner event to each of the tenant's active webhooks; one failing endpoint does not hold up the others. */
export async function ownerNotification(input: OwnerNotificationInput): Promise<OwnerNotificationResult> {
  const webhookIds = await listOwnerWebhooks({ tenantId: input.tenantId });
  const outcomes = await Promise.allSettled(webhookIds.map((webhookId) => deliverOwnerWebhook({ ...input, webhookId })));
  const delivered: { webhookId: string; status: number }[] = [];
  const failed: { webhookId: string; reason: string }[] = [];
  outcomes.forEach((outcome, index) => {
    const webhookId = webhookIds[index]!;
    if (outcome.status === 'rejected') failed.push({ webhookId, reason: failureReason(outcome.reason) });
    else if (outcome.value) delivered.push(outcome.value);
  });
  return { delivered, failed };
}

/** One signed `webhook.test` event to one webhook, answered with what its receiver did; null when the webhook does not exist. */
export async function testOwnerWebhook(input: OwnerWebhookTestInput): Promise<OwnerWebhookAttempt | null> {
  return deliverOwnerWebhookTest(input);
}
