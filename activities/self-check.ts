import { HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import type { DatabaseCheck, ObjectStoreCheck } from '../core/temporal/self-check.ts';

const migrationSummary = z.object({
  schemaVersion: z.number().int(),
  appliedMigrations: z.number().int(),
  serverVersion: z.string(),
});

export const createSelfCheckActivities = (deps: { maintenancePool: DatabasePool; s3: S3Client; bucket: string }) => ({
  async checkDatabase(): Promise<DatabaseCheck> {
    return deps.maintenancePool.one(sql.type(migrationSummary)`
      SELECT coalesce(max(version), 0)::int AS "schemaVersion",
             count(*)::int AS "appliedMigrations",
             current_setting('server_version') AS "serverVersion"
      FROM schema_migrations`);
  },

  async checkObjectStore(): Promise<ObjectStoreCheck> {
    await deps.s3.send(new HeadBucketCommand({ Bucket: deps.bucket }));
    return { bucket: deps.bucket, reachable: true };
  },
});

export type SelfCheckActivities = ReturnType<typeof createSelfCheckActivities>;
