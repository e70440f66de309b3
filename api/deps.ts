import type { S3Client } from '@aws-sdk/client-s3';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { DatabasePool } from 'slonik';
import type { Config } from '../core/config.ts';
import type { PodRuntime } from '../core/pod-runtime.ts';
import type { DatabasePools } from '../core/db/pools.ts';
import type { WithTenant } from '../core/db/with-tenant.ts';

/** What the API needs, created once by its entry point (or a test) and passed down. */
export type ApiDeps = {
  readonly config: Config;
  readonly pools: DatabasePools;
  /** `bi_token_admin`, for the token routes alone: the only role that issues, lists and revokes tokens. */
  readonly tokenPool: DatabasePool;
  readonly withTenant: WithTenant;
  readonly logger: Logger;
  readonly s3: S3Client;
  /** Temporal reachable (readiness). */
  readonly temporalHealthy: () => Promise<boolean>;
  /** Starts and describes the platform's workflows. */
  readonly temporal: () => Promise<Client>;
  /**
   * On Kubernetes (POD_RUNTIME=kubernetes), a tenant created here gets its BotTenant at once.
   * Absent locally: `npm start` runs a pod for every tenant it finds in the tenants list.
   */
  readonly podRuntime?: PodRuntime;
};
