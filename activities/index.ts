import type { S3Client } from '@aws-sdk/client-s3';
import type { Client } from '@temporalio/client';
import type { Config } from '../core/config.ts';
import type { DatabasePools } from '../core/db/pools.ts';
import { createWithTenant } from '../core/db/with-tenant.ts';
import type { Keyring } from '../core/crypto/keyring.ts';
import { createBackupActivities } from './backups/index.ts';
import { createBotSessionActivities } from './bot-sessions/index.ts';
import { createTenantLinkActivities } from './bot-tenant/link-tenant.ts';
import { createChatComposerActivities } from './lead-conversation/chat-composer.ts';
import { alertWebhookTarget, createIntegrityAlertWebhookActivities } from './data-integrity/alert-webhook.ts';
import { integrityChecks } from './data-integrity/checks/index.ts';
import { createDataIntegrityActivities } from './data-integrity/index.ts';
import { createDataRetentionActivities } from './data-retention/index.ts';
import { createDataSubjectActivities } from './data-subject/index.ts';
import { createDeadLetterActivities } from './dead-letters.ts';
import { createEmailSequenceFeatureActivities } from './email-sequences/index.ts';
import { createLeadActivities } from './lead-conversation/ingest.ts';
import { createOwnerNotificationActivities } from './owner-notification/delivery.ts';
import { mergeActivities } from './merge-activities.ts';
import { createPlatformEventActivities } from './platform-events.ts';
import { createPodBotsActivities } from './pod-bots.ts';
import { createQualificationActivities } from './qualification-threshold.ts';
import type { ScoringPool } from './scoring/pool.ts';
import { createScheduleActivities } from './schedules/index.ts';
import { createSelfCheckActivities } from './self-check.ts';
import { createTenantDeleteActivities } from './tenant-delete/index.ts';

export type ActivityDependencies = {
  readonly config: Config;
  readonly pools: DatabasePools;
  readonly s3: S3Client;
  /** For activities that list or terminate workflows (the data-integrity checks and fixes). */
  readonly temporal: Client;
  readonly logger: { warn(message: string): void; info(details: object, message: string): void };
  /** Loaded when first needed: a worker without keys still runs everything but backups. */
  readonly keyring: () => Keyring;
  readonly scoring: ScoringPool;
};

/**
 * Every activity of the platform worker, built from its dependencies (no module-level state).
 * Merged by mergeActivities: two features declaring one activity name fail `tsc`.
 */
export const createActivities = (deps: ActivityDependencies) => {
  const withTenant = createWithTenant(deps.pools.app, {
    maxAttempts: deps.config.database.tenantTxMaxAttempts,
    retryBaseMs: deps.config.database.tenantTxRetryBaseMs,
  });
  const { conversation } = deps.config;
  return mergeActivities(
    createSelfCheckActivities({ maintenancePool: deps.pools.maintenance, s3: deps.s3, bucket: deps.config.s3.bucket }),
    createLeadActivities({ withTenant, chatComposerConfigured: conversation.chatComposer !== null, scoring: deps.scoring }),
    createDeadLetterActivities({ withTenant, maintenancePool: deps.pools.maintenance }),
    createEmailSequenceFeatureActivities({ withTenant, email: deps.config.email, keyring: deps.keyring, publicApiUrl: deps.config.api.publicUrl }),
    createChatComposerActivities({ withTenant, chatComposer: conversation.chatComposer, log: (message) => deps.logger.warn(message) }),
    createOwnerNotificationActivities({
      withTenant, timeoutMs: conversation.ownerWebhookTimeoutMs, allowPrivateNetworks: conversation.ownerWebhookAllowPrivateNetworks,
      keyring: deps.keyring,
    }),
    createQualificationActivities({ withTenant }),
    createPodBotsActivities({ withTenant }),
    createBotSessionActivities({ withTenant }),
    createTenantLinkActivities({ withTenant }),
    createBackupActivities(deps),
    createPlatformEventActivities({ maintenancePool: deps.pools.maintenance }),
    createDataIntegrityActivities({
      maintenancePool: deps.pools.maintenance,
      checks: integrityChecks({ scoring: deps.config.conversation.scoring }),
      outside: { storage: { s3: deps.s3, bucket: deps.config.s3.bucket }, temporal: deps.temporal, graceSeconds: deps.config.integrity.graceSeconds },
    }),
    createDataRetentionActivities({
      withTenant, maintenancePool: deps.pools.maintenance, batchSize: deps.config.retention.batchSize, objects: { s3: deps.s3, bucket: deps.config.s3.bucket },
      operationalLogDays: deps.config.retention.operationalLogDays,
    }),
    createDataSubjectActivities({ withTenant, objects: { s3: deps.s3, bucket: deps.config.s3.bucket } }),
    createIntegrityAlertWebhookActivities({
      maintenancePool: deps.pools.maintenance, webhook: alertWebhookTarget(deps.config.integrity.alertWebhook, deps.keyring),
    }),
    createScheduleActivities({
      withTenant, maintenancePool: deps.pools.maintenance, temporal: deps.temporal, taskQueue: deps.config.temporal.taskQueue,
      followUp: deps.config.schedules.followUp,
    }),
    createTenantDeleteActivities({ maintenancePool: deps.pools.maintenance, objects: { s3: deps.s3, bucket: deps.config.s3.bucket }, temporal: deps.temporal }),
  );
};
