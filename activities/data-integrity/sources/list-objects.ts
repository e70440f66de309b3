// Lists the bucket under one prefix, every page (S3 returns at most 1,000 keys per page).
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { ListedObject } from '../../../core/data-integrity/check.ts';

export const listObjects = async (s3: S3Client, bucket: string, prefix: string): Promise<ListedObject[]> => {
  const objects: ListedObject[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const object of page.Contents ?? []) {
      objects.push({ key: object.Key!, lastModified: object.LastModified!, size: object.Size ?? 0 });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return objects;
};
