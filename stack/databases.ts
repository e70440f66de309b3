// Databases of their own for the tests and the benchmarks on the shared local Postgres.
import { createPool, sql } from 'slonik';
import { withDatabaseName } from '../core/db/database-url.ts';

export { withDatabaseName };

/** Drops (disconnecting its sessions) and creates `database` as the owner of `ownerUrl`. */
export const recreateDatabase = async (ownerUrl: string, database: string): Promise<void> => {
  const pool = await createPool(withDatabaseName(ownerUrl, 'postgres'));
  try {
    await pool.query(sql.unsafe`DROP DATABASE IF EXISTS ${sql.identifier([database])} WITH (FORCE)`);
    await pool.query(sql.unsafe`CREATE DATABASE ${sql.identifier([database])}`);
  } finally {
    await pool.end();
  }
};
