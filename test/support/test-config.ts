import type { Config, Env } from '../../core/config.ts';
import { withDatabaseName } from '../../stack/databases.ts';

export const TEST_DATABASE = 'botinteligente_test';
export const TEST_TASK_QUEUE = 'platform-test';

/**
 * The environment the tests run in: the shared local stack, but a database and a task queue of
 * their own, so a running `npm start` is neither disturbed nor able to steal test tasks.
 */
export const testEnvironment = (base: Config): Env => ({
  DATABASE_URL: withDatabaseName(base.database.appUrl, TEST_DATABASE),
  DATABASE_MAINTENANCE_URL: withDatabaseName(base.database.maintenanceUrl, TEST_DATABASE),
  DATABASE_MIGRATION_URL: withDatabaseName(base.database.migrationUrl, TEST_DATABASE),
  DATABASE_TOKEN_ADMIN_URL: withDatabaseName(base.database.tokenAdminUrl, TEST_DATABASE),
  TEMPORAL_TASK_QUEUE: TEST_TASK_QUEUE,
  // The tests' webhook receiver and chat API listen on loopback.
  OWNER_WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
  // The backup test creates the Schedules itself; elsewhere a nightly run must not start mid-suite.
  BACKUP_SCHEDULES_ENABLED: 'false',
  // Likewise the hourly integrity run: the data-integrity tests start their runs themselves.
  INTEGRITY_SCHEDULE_ENABLED: 'false',
  // And the daily retention run: the retention tests start their runs themselves.
  RETENTION_SCHEDULE_ENABLED: 'false',
  // And the daily schedules reconcile: the schedules test runs it itself.
  SCHEDULES_RECONCILE_ENABLED: 'false',
  // Tenants of other tests have bots but no pod: a backup reports their sessions missing after 5 s.
  BACKUP_SESSIONS_TIMEOUT_SECONDS: '5',
});
