import { proxyActivities } from '@temporalio/workflow';
import type { OwnerNotificationActivities } from '../activities/owner-notification/delivery.ts';
import type { OwnerNotificationInput } from '../core/temporal/owner-notification.ts';
import { failureReason } from '../core/temporal/failure-reason.ts';
import { NON_RETRYABLE_PLATFORM_ERRORS } from '../core/temporal/retry.ts';

const { listOwnerWebhooks } = proxyActivities<OwnerNotificationActivities>({ startToCloseTimeout: '30 seconds' });
// An owner's endpoint may be down for hours: back off up to 10 minutes between tries, for a day.
const { deliverOwnerWebhook } = proxyActivities<OwnerNotificationActivities>({
  startToCloseTimeout: '1 minute',
  scheduleToCloseTimeout: '24 hours',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 minutes', nonRetryableErrorTypes: NON_RETRYABLE_PLATFORM_ERRORS },
});

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
