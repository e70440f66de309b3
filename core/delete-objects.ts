// Deletes objects of the bucket by key, 1,000 per request (S3's limit). Deleting a key that is
// already gone succeeds: callers may repeat a deletion.
import { DeleteObjectsCommand, type S3Client } from '@aws-sdk/client-s3';

export type ObjectStore = { readonly s3: S3Client; readonly bucket: string };

const BATCH = 1000;

/** The keys of one batch the store refused. */
const deleteBatch = async ({ s3, bucket }: ObjectStore, batch: readonly string[]): Promise<{ Key?: string; Message?: string }[]> => {
  const result = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }));
  return result.Errors ?? [];
};

/** Deletes `keys` and fails when the store refuses any; returns how many were asked for. */
export const deleteObjectKeys = async (store: ObjectStore, keys: readonly string[]): Promise<number> => {
  for (let start = 0; start < keys.length; start += BATCH) {
    const errors = await deleteBatch(store, keys.slice(start, start + BATCH));
    if (errors.length) throw new Error(`could not delete ${errors.length} objects, first ${errors[0]!.Key}: ${errors[0]!.Message}`);
  }
  return keys.length;
};

/**
 * Deletes `keys` and returns those the store refused or could not be asked about, without throwing:
 * for callers whose rows are gone already, which report what is left instead of failing.
 */
export const deleteObjectKeysReportingLeft = async (store: ObjectStore, keys: readonly string[]): Promise<string[]> => {
  const left: string[] = [];
  for (let start = 0; start < keys.length; start += BATCH) {
    const batch = keys.slice(start, start + BATCH);
    left.push(...await deleteBatch(store, batch).then((errors) => errors.map((error) => error.Key ?? '?'), () => batch));
  }
  return left;
};
