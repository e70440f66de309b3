// Databases of their own for the tests and the benchmarks on the shared local Postgres.
import { createPool, sql } from 'slonik';

export const withDatabaseName = (url: string, database: string): string => {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
};

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
