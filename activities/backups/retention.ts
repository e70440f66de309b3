// Retention as an action: the plan (core/backups/retention-plan.ts) is computed and logged first;
// then each backup to delete is marked deleted in the catalog before its objects go, so a crash
// leaves objects claimed by a deleted entry (removed by the next run), never a complete entry
// whose objects are gone. Objects no entry claims are reported, never deleted.
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { BACKUP_PREFIX, backupIdOfKey } from '../../core/object-keys.ts';
import { planRetention, type RetentionPlan, type RetentionPolicy } from '../../core/backups/retention-plan.ts';
import { deleteObjectKeys } from '../../core/delete-objects.ts';
import { alert } from '../platform-events.ts';
import { readCatalog, recordBackupDeleted } from './catalog.ts';

export type RetentionResult = {
  readonly plan: RetentionPlan;
  readonly objectsDeleted: number;
  readonly unclaimedObjects: readonly string[];
};

const listKeys = async (s3: S3Client, bucket: string, prefix: string): Promise<string[]> => {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((object) => object.Key!));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
};

export const applyRetention = async (deps: {
  pool: DatabasePool; s3: S3Client; bucket: string; policy: RetentionPolicy; now: Date; log: (message: string, details: object) => void;
}): Promise<RetentionResult> => {
  const plan = planRetention(await readCatalog(deps.pool), deps.policy, deps.now);
  deps.log('backup retention plan', { now: deps.now.toISOString(), policy: deps.policy, keep: plan.keep, delete: plan.delete.map((entry) => entry.id) });
  for (const { id } of plan.delete) await recordBackupDeleted(deps.pool, id);

  const statuses = new Map((await deps.pool.any(sql.type(z.object({ id: z.string(), status: z.string() }))`SELECT id, status FROM backups`))
    .map((row) => [row.id, row.status]));
  const keys = await listKeys(deps.s3, deps.bucket, BACKUP_PREFIX);
  // Objects of deleted entries: this run's deletions and any an interrupted run left behind.
  const doomed = keys.filter((key) => statuses.get(backupIdOfKey(key) ?? '') === 'deleted');
  const unclaimedObjects = keys.filter((key) => !statuses.has(backupIdOfKey(key) ?? '')).sort();
  const objectsDeleted = await deleteObjectKeys(deps, doomed);
  if (unclaimedObjects.length > 0) deps.log('objects under the backup prefix that no catalog entry claims (not deleted)', { unclaimedObjects });
  await alert(deps.pool, 'retention.applied', 'backup-retention', {
    kept: plan.keep.length, deleted: plan.delete.map((entry) => entry.id), objectsDeleted, unclaimedObjects: unclaimedObjects.slice(0, 100),
  });
  return { plan, objectsDeleted, unclaimedObjects };
};

