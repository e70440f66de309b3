// SeaweedFS (`weed mini`): a real S3 API on loopback, with the platform's bucket.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CreateBucketCommand, HeadBucketCommand } from '@aws-sdk/client-s3';
import type { Config } from '../core/config.ts';
import { createObjectStoreClient } from '../core/object-store.ts';
import { isRunning, startService, stopService, waitUntilHealthy } from './processes.ts';

const SERVICE = 's3';

const ensureBucket = async (config: Config) => {
  const s3 = createObjectStoreClient(config.s3);
  try {
    try {
      await s3.send(new HeadBucketCommand({ Bucket: config.s3.bucket }));
    } catch {
      await s3.send(new CreateBucketCommand({ Bucket: config.s3.bucket }));
      await s3.send(new HeadBucketCommand({ Bucket: config.s3.bucket }));
    }
  } finally {
    s3.destroy();
  }
};

export const startS3 = async (config: Config): Promise<{ reused: boolean; url: string }> => {
  const endpoint = new URL(config.s3.endpoint);
  if (await isRunning(() => ensureBucket(config))) return { reused: true, url: config.s3.endpoint };
  const dir = resolve(config.stack.dir, 's3');
  mkdirSync(join(dir, 'data'), { recursive: true });
  const identities = join(dir, 's3-identities.json');
  writeFileSync(identities, JSON.stringify({
    identities: [{
      name: 'platform',
      credentials: [{ accessKey: config.s3.accessKeyId, secretKey: config.s3.secretAccessKey }],
      actions: ['Admin', 'Read', 'Write', 'List', 'Tagging'],
    }],
  }), { mode: 0o600 });
  startService(config.stack.dir, SERVICE, resolve(config.stack.toolsDir, 'bin', 'weed'), [
    'mini', `-dir=${join(dir, 'data')}`, `-ip=${endpoint.hostname}`, `-ip.bind=${endpoint.hostname}`,
    `-s3.port=${endpoint.port || '80'}`, `-s3.config=${identities}`, '-admin.ui=false', '-master.telemetry=false',
    '-master.volumeSizeLimitMB=64',
    // Only S3 is used: no WebDAV or Iceberg listener (their fixed ports clash when two stacks share a machine).
    '-webdav=false', '-s3.port.iceberg=0',
  ]);
  await waitUntilHealthy(config.stack.dir, SERVICE, () => ensureBucket(config));
  return { reused: false, url: config.s3.endpoint };
};

export const stopS3 = (config: Config) => stopService(config.stack.dir, SERVICE);
