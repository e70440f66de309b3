// `data-subject-erasure/<tenantId>/<requestId>`: erases one person's data in one tenant. The media
// keys are read first, the rows are erased in one transaction, and the objects are deleted only
// after that commit (a lost object is harmless; a row whose object is gone is not). Every step is
// idempotent, so the workflow may be retried or started twice.
import { proxyActivities } from '@temporalio/workflow';
import type { DataSubjectActivities } from '../activities/data-subject/index.ts';
import { NON_RETRYABLE_PLATFORM_ERRORS } from '../core/temporal/retry.ts';
import type { DataSubjectErasureCounts, DataSubjectErasureInput } from '../core/temporal/data-subject.ts';

const subject = proxyActivities<DataSubjectActivities>({
  startToCloseTimeout: '2 minutes',
  // Retries cover the API's start racing its own commit (the request row is read by the first step).
  retry: { maximumAttempts: 8, initialInterval: '1 second', nonRetryableErrorTypes: NON_RETRYABLE_PLATFORM_ERRORS },
});

export async function dataSubjectErasure(input: DataSubjectErasureInput): Promise<DataSubjectErasureCounts> {
  const before = await subject.dataSubjectMediaKeys(input);
  const erased = await subject.eraseDataSubjectRows(input);
  await subject.deleteDataSubjectObjects({ tenantId: input.tenantId, keys: [...new Set([...before, ...erased.objectKeys])].sort() });
  return erased.counts;
}
