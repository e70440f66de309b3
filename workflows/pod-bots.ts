import { proxyActivities } from '@temporalio/workflow';
import type { PodBotsActivities } from '../activities/pod-bots.ts';
import type { PodActiveBotsInput } from '../core/temporal/pod-bots.ts';

const { listActiveBots } = proxyActivities<PodBotsActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 3, initialInterval: '1 second' },
});

/** The active bots of a tenant, asked by its bot pod at start (the pod has no database access). */
export async function podActiveBots(input: PodActiveBotsInput): Promise<string[]> {
  return listActiveBots(input.tenantId);
}
