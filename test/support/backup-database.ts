// A database of its own for a backup test, freshly migrated, with the environment (and parsed
// config) that points a worker and bot pods at it: a restore over the live database, or a
// synthetic catalog, must not touch the shared test database.
import { fileURLToPath } from 'node:url';
import type { Config } from '../../core/config.ts';
import { withDatabaseName } from '../../core/db/database-url.ts';
import { migrateUp } from '../../core/db/migrations.ts';
import { recreateDatabase } from '../../stack/databases.ts';

export const prepareBackupDatabase = async (base: Config, database: string, extra: Record<string, string> = {}) => {
  const env: Record<string, string> = {
    DATABASE_URL: withDatabaseName(base.database.appUrl, database),
    DATABASE_MAINTENANCE_URL: withDatabaseName(base.database.maintenanceUrl, database),
    DATABASE_MIGRATION_URL: withDatabaseName(base.database.migrationUrl, database),
    DATABASE_TOKEN_ADMIN_URL: withDatabaseName(base.database.tokenAdminUrl, database),
    ...extra,
  };
  await recreateDatabase(env.DATABASE_MIGRATION_URL!, database);
  await migrateUp({ url: env.DATABASE_MIGRATION_URL!, directory: fileURLToPath(new URL('../../migrations', import.meta.url)), log: () => undefined });
  // The worker and pods get `env`; the test itself needs only the database URLs.
  const config: Config = {
    ...base, database: { ...base.database, appUrl: env.DATABASE_URL!, maintenanceUrl: env.DATABASE_MAINTENANCE_URL!, migrationUrl: env.DATABASE_MIGRATION_URL!,
      tokenAdminUrl: env.DATABASE_TOKEN_ADMIN_URL! },
  };
  return { env, config };
};
