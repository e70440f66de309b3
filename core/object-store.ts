import { S3Client } from '@aws-sdk/client-s3';
import type { Config } from './config.ts';

/** One S3 client for any S3-compatible store: SeaweedFS locally, Cloudflare R2 (region `auto`) in production. */
export const createObjectStoreClient = (s3: Config['s3']): S3Client =>
  new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: s3.forcePathStyle,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
