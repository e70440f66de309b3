import type { S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../core/config.ts';
import type { DatabasePools } from '../core/db/pools.ts';
import { createWithTenant } from '../core/db/with-tenant.ts';
import { createLeadActivities } from './lead-ingest.ts';
import { createSelfCheckActivities } from './self-check.ts';

export type ActivityDependencies = {
  readonly config: Config;
  readonly pools: DatabasePools;
  readonly s3: S3Client;
};

/** Every activity of the platform worker, built from its dependencies (no module-level state). */
export const createActivities = (deps: ActivityDependencies) => ({
  ...createSelfCheckActivities({ maintenancePool: deps.pools.maintenance, s3: deps.s3, bucket: deps.config.s3.bucket }),
  ...createLeadActivities({
    withTenant: createWithTenant(deps.pools.app, {
      maxAttempts: deps.config.database.tenantTxMaxAttempts,
      retryBaseMs: deps.config.database.tenantTxRetryBaseMs,
    }),
  }),
});

export type Activities = ReturnType<typeof createActivities>;
