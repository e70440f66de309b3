// Deletes objects of the bucket by key, 1,000 per request (S3's limit), and fails when the store
// refuses any. Deleting a key that is already gone succeeds: callers may repeat a deletion.
import { DeleteObjectsCommand, type S3Client } from '@aws-sdk/client-s3';

export type ObjectStore = { readonly s3: S3Client; readonly bucket: string };

/** Deletes `keys`; returns how many were asked for. */
export const deleteObjectKeys = async ({ s3, bucket }: ObjectStore, keys: readonly string[]): Promise<number> => {
  for (let start = 0; start < keys.length; start += 1000) {
    const batch = keys.slice(start, start + 1000);
    const result = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }));
    if (result.Errors?.length) throw new Error(`could not delete ${result.Errors.length} objects, first ${result.Errors[0]!.Key}: ${result.Errors[0]!.Message}`);
  }
  return keys.length;
};
