// The listings a run reads besides the database: the bucket and Temporal's running lead workflows.
// Taken once per run, just after the runner's snapshot: see "Storage and workflows" in docs/data-integrity.md
// for the race between the two and how `settledBefore` keeps it from producing false findings.
import type { S3Client } from '@aws-sdk/client-s3';
import type { Client } from '@temporalio/client';
import type { IntegrityCheck, IntegrityScope, IntegritySource, IntegritySources } from '../../../core/data-integrity/check.ts';
import { BACKUP_PREFIX, TENANTS_PREFIX, tenantPrefix } from '../../../core/object-keys.ts';
import { listRunningLeadWorkflows } from './list-lead-workflows.ts';
import { listObjects } from './list-objects.ts';

export type IntegrityOutside = {
  readonly storage?: { readonly s3: S3Client; readonly bucket: string };
  readonly temporal?: Client;
  /** How long after the snapshot an object or a workflow counts as possibly unseen by it. */
  readonly graceSeconds: number;
};

export const availableSources = (outside: IntegrityOutside | undefined): ReadonlySet<IntegritySource> => new Set([
  ...(outside?.storage === undefined ? [] : ['objects' as const]),
  ...(outside?.temporal === undefined ? [] : ['workflows' as const]),
]);

/** Lists what the checks need, and nothing they do not. */
export const gatherSources = async (
  outside: IntegrityOutside | undefined,
  checks: readonly IntegrityCheck[],
  scope: IntegrityScope,
  snapshotAt: Date,
): Promise<IntegritySources> => {
  const needed = new Set(checks.flatMap((check) => check.needs ?? []));
  const { storage, temporal } = outside ?? {};
  const [tenantObjects, backupObjects, workflows] = await Promise.all([
    needed.has('objects') && storage ? listObjects(storage.s3, storage.bucket, scope.tenantId === null ? TENANTS_PREFIX : tenantPrefix(scope.tenantId)) : [],
    needed.has('objects') && storage ? listObjects(storage.s3, storage.bucket, BACKUP_PREFIX) : [],
    needed.has('workflows') && temporal ? listRunningLeadWorkflows(temporal, scope.tenantId) : [],
  ]);
  return {
    objects: [...tenantObjects, ...backupObjects],
    workflows,
    snapshotAt,
    settledBefore: new Date(snapshotAt.getTime() - (outside?.graceSeconds ?? 0) * 1000),
  };
};
