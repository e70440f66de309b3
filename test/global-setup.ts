// Brings up the real local stack once for the whole run (reusing whatever already runs), and gives
// the tests a freshly migrated database of their own.
import { fileURLToPath } from 'node:url';
import { createPool, sql } from 'slonik';
import { loadConfig } from '../core/config.ts';
import { migrateUp } from '../core/db/migrations.ts';
import { startStack, type StackHandle } from '../stack/harness.ts';
import { TEST_DATABASE, testEnvironment, withDatabaseName } from './support/test-config.ts';

declare global {
  var __STACK__: StackHandle | undefined;
}

const recreateDatabase = async (ownerUrl: string, database: string): Promise<void> => {
  const pool = await createPool(withDatabaseName(ownerUrl, 'postgres'));
  try {
    await pool.query(sql.unsafe`DROP DATABASE IF EXISTS ${sql.identifier([database])} WITH (FORCE)`);
    await pool.query(sql.unsafe`CREATE DATABASE ${sql.identifier([database])}`);
  } finally {
    await pool.end();
  }
};

export default async function globalSetup(): Promise<void> {
  const base = loadConfig();
  const log = (message: string) => process.stderr.write(`[stack] ${message}\n`);
  globalThis.__STACK__ = await startStack(base, { log });

  const environment = testEnvironment(base);
  // Jest hands configuration to test files only through the environment.
  Object.assign(process.env, environment);
  const config = loadConfig();

  await recreateDatabase(config.database.migrationUrl, TEST_DATABASE);
  await migrateUp({
    url: config.database.migrationUrl,
    directory: fileURLToPath(new URL('../migrations', import.meta.url)),
    log: () => undefined,
  });
}
