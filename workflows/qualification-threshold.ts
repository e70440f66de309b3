import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { QualificationThresholdActivities } from '../activities/qualification-threshold.ts';
import { NON_RETRYABLE_PLATFORM_ERRORS } from '../core/temporal/retry.ts';
import { startOwnerNotification } from './start-owner-notification.ts';

const { setQualificationThreshold } = proxyActivities<QualificationThresholdActivities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumInterval: '30 seconds', nonRetryableErrorTypes: NON_RETRYABLE_PLATFORM_ERRORS },
});

export type ChangeQualificationThresholdInput = { tenantId: string; botId: string; threshold: number; actor: string };

/**
 * Changes a bot's qualification threshold: its leads are re-qualified in the same transaction and
 * every lead that crosses the new threshold notifies its owner once.
 */
export async function changeQualificationThreshold(input: ChangeQualificationThresholdInput) {
  if (!Number.isInteger(input.threshold) || input.threshold < 0 || input.threshold > 1000) {
    throw ApplicationFailure.nonRetryable(`threshold must be an integer from 0 to 1000, got ${JSON.stringify(input.threshold)}`, 'InvalidThreshold');
  }
  const change = await setQualificationThreshold(input);
  for (const eventId of change.qualifiedEventIds) await startOwnerNotification(input.tenantId, eventId);
  return { ...change, notifiedEvents: change.qualifiedEventIds.length };
}
