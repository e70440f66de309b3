// Data-subject erasure activities: find the person's media objects, erase their rows in one
// transaction of the tenant (RLS applies), then delete the objects. Each is idempotent: a completed
// request erases nothing again, and deleting an object already gone succeeds.
import { ApplicationFailure } from '@temporalio/common';
import { eraseSubjectRows, subjectMediaKeys } from '../../core/data-subject/erase.ts';
import { completeErasureRequest, ERASURE_ACTOR, lockErasureRequest } from '../../core/data-subject/erasure-requests.ts';
import { matchSubject } from '../../core/data-subject/holdings.ts';
import type { WithTenant } from '../../core/db/with-tenant.ts';
import { isTenantObjectKey } from '../../core/object-keys.ts';
import type { DataSubjectErasureCounts, DataSubjectErasureInput, DataSubjectObjectsInput } from '../../core/temporal/data-subject.ts';
import { deleteObjectKeys, type ObjectStore } from '../../core/delete-objects.ts';

export type DataSubjectDependencies = { readonly withTenant: WithTenant; readonly objects: ObjectStore };

export const createDataSubjectActivities = ({ withTenant, objects }: DataSubjectDependencies) => ({
  /**
   * The media keys of a pending request's person, read before the rows go: if the erasure's
   * transaction commits and its activity result is lost, these keys still reach the deletion.
   */
  async dataSubjectMediaKeys({ tenantId, requestId }: DataSubjectErasureInput): Promise<string[]> {
    return withTenant(tenantId, async (tx) => {
      const { subject } = await lockErasureRequest(tx, tenantId, requestId);
      return subject === null ? [] : subjectMediaKeys(tx, tenantId, await matchSubject(tx, tenantId, subject));
    });
  },

  /** Erases the rows and completes the request in one transaction; a completed request answers its recorded counts. */
  async eraseDataSubjectRows({ tenantId, requestId }: DataSubjectErasureInput): Promise<{ counts: DataSubjectErasureCounts; objectKeys: string[] }> {
    return withTenant(tenantId, async (tx) => {
      const { request, subject } = await lockErasureRequest(tx, tenantId, requestId);
      if (subject === null) return { counts: request.counts ?? {}, objectKeys: [] };
      const erased = await eraseSubjectRows(tx, tenantId, await matchSubject(tx, tenantId, subject));
      await completeErasureRequest(tx, tenantId, request, erased.counts);
      return { counts: erased.counts, objectKeys: [...erased.objectKeys] };
    }, { actor: ERASURE_ACTOR });
  },

  /** Deletes the objects once the rows are committed; only keys under the tenant's own prefix. */
  async deleteDataSubjectObjects({ tenantId, keys }: DataSubjectObjectsInput): Promise<number> {
    const foreign = keys.find((key) => !isTenantObjectKey(key, tenantId));
    if (foreign !== undefined) throw ApplicationFailure.nonRetryable(`object ${foreign} is not under tenant ${tenantId}'s prefix`, 'ForeignObjectKey');
    return deleteObjectKeys(objects, keys);
  },
});

export type DataSubjectActivities = ReturnType<typeof createDataSubjectActivities>;
