// A freshly migrated database of its own for the data-integrity tests: they corrupt it on purpose
// (as the owner), so no other test's rows or schema can be touched, nor can others' rows leak in.
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createPool, sql, type DatabasePool, type DatabaseTransactionConnection, type QuerySqlToken } from 'slonik';
import type { Config } from '../../core/config.ts';
import { migrateUp } from '../../core/db/migrations.ts';
import { createDatabasePools, type DatabasePools } from '../../core/db/pools.ts';
import { createWithTenant, type WithTenant } from '../../core/db/with-tenant.ts';
import { recreateDatabase, withDatabaseName } from '../../stack/databases.ts';

export type IntegrityDatabase = {
  readonly name: string;
  readonly database: Config['database'];
  readonly pools: DatabasePools;
  /** The owner role: the one that can corrupt the schema and the rows around every guard. */
  readonly owner: DatabasePool;
  /** As the owner in one transaction, acting as the tenant (RLS is forced on the owner too). */
  readonly asTenantOwner: <T>(tenantId: string, work: (tx: DatabaseTransactionConnection) => Promise<T>) => Promise<T>;
  /** The statements in order, in one transaction of asTenantOwner: how a test corrupts the data. */
  readonly runAsTenantOwner: (tenantId: string, statements: readonly QuerySqlToken[]) => Promise<void>;
  readonly withTenant: WithTenant;
  readonly drop: () => Promise<void>;
};

export const FRESH_BACKUP_ID = '20261126T000000Z-0badc0de';

export const createIntegrityDatabase = async (config: Config): Promise<IntegrityDatabase> => {
  const name = `integrity_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  await recreateDatabase(config.database.migrationUrl, name);
  const database = {
    ...config.database,
    appUrl: withDatabaseName(config.database.appUrl, name),
    maintenanceUrl: withDatabaseName(config.database.maintenanceUrl, name),
    migrationUrl: withDatabaseName(config.database.migrationUrl, name),
    tokenAdminUrl: withDatabaseName(config.database.tokenAdminUrl, name),
  };
  await migrateUp({ url: database.migrationUrl, directory: fileURLToPath(new URL('../../migrations', import.meta.url)), log: () => undefined });
  const pools = await createDatabasePools(database);
  const owner = await createPool(database.migrationUrl);
  // A fresh backup and a passed drill, as on a running platform: only the backup-age test ages them.
  await owner.query(sql.unsafe`
    WITH backup AS (
      INSERT INTO backups (id, kind, status, workflow_id, completed_at, manifest_key, total_bytes)
      VALUES (${FRESH_BACKUP_ID}, 'nightly', 'complete', 'backup-test', now(), 'backups/manifest.json', 1) RETURNING id)
    INSERT INTO backup_drills (backup_id, workflow_id, started_at, passed) SELECT id, 'drill-test', now(), true FROM backup`);
  const asTenantOwner = <T>(tenantId: string, work: (tx: DatabaseTransactionConnection) => Promise<T>) => owner.transaction(async (tx) => {
    await tx.query(sql.unsafe`SELECT set_config('app.current_tenant', ${tenantId}, true)`);
    return work(tx);
  });
  return {
    name,
    database,
    pools,
    owner,
    asTenantOwner,
    runAsTenantOwner: (tenantId, statements) => asTenantOwner(tenantId, async (tx) => {
      for (const statement of statements) await tx.query(statement);
    }),
    withTenant: createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 10 }),
    drop: async () => {
      await Promise.all([pools.end(), owner.end()]);
      const server = await createPool(withDatabaseName(config.database.migrationUrl, 'postgres'));
      await server.query(sql.unsafe`DROP DATABASE IF EXISTS ${sql.identifier([name])} WITH (FORCE)`);
      await server.end();
    },
  };
};
