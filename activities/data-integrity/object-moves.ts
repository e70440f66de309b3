// The bucket operations of the storage fixes and their undo: a move is a copy, then a delete of the
// source, so an interruption leaves the object in both places (never in none).
import { CopyObjectCommand, DeleteObjectCommand, HeadObjectCommand, NotFound, type S3Client } from '@aws-sdk/client-s3';

export type ObjectHead = { readonly size: number; readonly etag: string; readonly lastModified: string };
export type Bucket = { readonly s3: S3Client; readonly bucket: string };

export const headObject = async ({ s3, bucket }: Bucket, key: string): Promise<ObjectHead | null> => {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return { size: head.ContentLength ?? 0, etag: head.ETag ?? '', lastModified: head.LastModified?.toISOString() ?? '' };
  } catch (error) {
    if (error instanceof NotFound || (error as { name?: string }).name === 'NotFound') return null;
    throw error;
  }
};

const copySource = (bucket: string, key: string) => `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;

export const copyObject = async ({ s3, bucket }: Bucket, from: string, to: string): Promise<void> => {
  await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: to, CopySource: copySource(bucket, from) }));
};

export const deleteObject = async ({ s3, bucket }: Bucket, key: string): Promise<void> => {
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
};
