// Media a bot sends, read from S3 by key. WhatsApp takes documents up to 100 MB; the pod holds one
// file in memory while it sends, so the limit is lower and stated.
import { GetObjectCommand, NoSuchKey, type S3Client } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';

export const MAX_MEDIA_BYTES = 64 * 1024 * 1024;

export const createMediaReader = (s3: S3Client, bucket: string) => async (objectKey: string): Promise<Buffer> => {
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: objectKey }));
    if ((object.ContentLength ?? 0) > MAX_MEDIA_BYTES) {
      throw ApplicationFailure.nonRetryable(`media ${objectKey} is ${object.ContentLength} bytes; the limit is ${MAX_MEDIA_BYTES}`, 'MediaTooLarge');
    }
    return Buffer.from(await object.Body!.transformToByteArray());
  } catch (error) {
    if (error instanceof NoSuchKey) throw ApplicationFailure.nonRetryable(`media ${objectKey} does not exist`, 'MediaNotFound');
    throw error;
  }
};
