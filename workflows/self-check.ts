import { proxyActivities } from '@temporalio/workflow';
import type { SelfCheckReport } from '../core/temporal/self-check.ts';
import type { SelfCheckActivities } from '../activities/self-check.ts';

const { checkDatabase, checkObjectStore } = proxyActivities<SelfCheckActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 3, initialInterval: '1 second' },
});

/** Runs the platform's dependency checks through a real worker; operators start it from Temporal UI or tests. */
export async function platformSelfCheck(): Promise<SelfCheckReport> {
  const [database, objectStore] = await Promise.all([checkDatabase(), checkObjectStore()]);
  return { database, objectStore, checkedAt: new Date().toISOString() };
}
