// Putting a restored database in place of the live one: the catalog is carried over (it describes
// the bucket, which the restore did not roll back), the live database is closed to new sessions,
// its sessions are ended, and two renames swap the databases. The old one stays, renamed, for a
// rollback; the pools of every process reconnect to the restored one under the live name.
import { createPool, sql } from 'slonik';
import { z } from 'zod';
import { databaseNameOf, withDatabaseName } from '../../core/db/database-url.ts';

const rowsAsJson = z.object({ rows: z.string() });

const copyCatalog = async (maintenanceUrl: string, from: string, to: string) => {
  const source = await createPool(withDatabaseName(maintenanceUrl, from), { maximumPoolSize: 1 });
  const target = await createPool(withDatabaseName(maintenanceUrl, to), { maximumPoolSize: 1 });
  try {
    // As JSON text: the rows travel exactly as stored, timestamps included.
    const backups = await source.oneFirst(sql.type(rowsAsJson)`SELECT coalesce(jsonb_agg(to_jsonb(b)), '[]')::text AS rows FROM backups b`);
    const drills = await source.oneFirst(sql.type(rowsAsJson)`SELECT coalesce(jsonb_agg(to_jsonb(d)), '[]')::text AS rows FROM backup_drills d`);
    await target.transaction(async (tx) => {
      await tx.query(sql.unsafe`
        INSERT INTO backups SELECT * FROM jsonb_populate_recordset(NULL::backups, ${backups}::jsonb) ON CONFLICT (id) DO NOTHING`);
      await tx.query(sql.unsafe`
        INSERT INTO backup_drills SELECT * FROM jsonb_populate_recordset(NULL::backup_drills, ${drills}::jsonb) ON CONFLICT (id) DO NOTHING`);
    });
  } finally {
    await Promise.all([source.end(), target.end()]);
  }
};

/** Swaps `restored` in under the live database's name; returns the name the old live database now has. */
export const swapIntoLive = async (deps: { ownerUrl: string; maintenanceUrl: string }, restored: string, retiredName: string): Promise<string> => {
  const live = databaseNameOf(deps.ownerUrl);
  const pool = await createPool(withDatabaseName(deps.ownerUrl, 'postgres'), { maximumPoolSize: 1 });
  try {
    const exists = (database: string) => pool.exists(sql.unsafe`SELECT 1 FROM pg_database WHERE datname = ${database}`);
    // A retry after a swap that finished but was never reported: nothing left to do.
    if (!await exists(restored) && await exists(retiredName) && await exists(live)) return retiredName;
    await copyCatalog(deps.maintenanceUrl, live, restored);
    const rename = (from: string, to: string) => pool.query(sql.unsafe`ALTER DATABASE ${sql.identifier([from])} RENAME TO ${sql.identifier([to])}`);
    const allowConnections = (database: string, allow: boolean) =>
      pool.query(allow
        ? sql.unsafe`ALTER DATABASE ${sql.identifier([database])} WITH ALLOW_CONNECTIONS true`
        : sql.unsafe`ALTER DATABASE ${sql.identifier([database])} WITH ALLOW_CONNECTIONS false`);
    await allowConnections(live, false);
    try {
      await pool.query(sql.unsafe`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname IN (${live}, ${restored}) AND pid <> pg_backend_pid()`);
      await rename(live, retiredName);
      await rename(restored, live);
    } catch (error) {
      // Never leave the platform without a live database: put the old one back.
      if (!await exists(live)) await rename(retiredName, live);
      await allowConnections(live, true);
      throw error;
    }
    await allowConnections(retiredName, true);
    return retiredName;
  } finally {
    await pool.end();
  }
};
