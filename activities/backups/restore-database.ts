// Restoring a verified dump into a new database created from the restore template. The target
// is marked while the restore runs, so a retried activity may replace its own half-done target
// but never an existing database; any failure drops the target again.
import { createPool, sql } from 'slonik';
import type { S3Client } from '@aws-sdk/client-s3';
import pg from 'pg';
import type { Manifest } from '../../core/backups/manifest.ts';
import { compareFingerprints, fingerprintTables, type FingerprintDifference } from '../../core/backups/table-fingerprints.ts';
import type { Keyring } from '../../core/crypto/keyring.ts';
import { withDatabaseName } from '../../core/db/database-url.ts';
import { decompressor } from './compression.ts';
import { runPgTool } from './pg-tools.ts';
import { BackupRefusedError, readObjectInto } from './verify.ts';

export type RestoreDeps = {
  readonly ownerUrl: string; readonly maintenanceUrl: string; readonly pgBinDir: string; readonly restoreTemplate: string;
  readonly s3: S3Client; readonly bucket: string; readonly keyring: Keyring;
};

const inProgressMark = (backupId: string) => `botinteligente: restore of ${backupId} in progress`;

const withServer = async <T>(ownerUrl: string, work: (pool: Awaited<ReturnType<typeof createPool>>) => Promise<T>): Promise<T> => {
  const pool = await createPool(withDatabaseName(ownerUrl, 'postgres'), { maximumPoolSize: 1 });
  try {
    return await work(pool);
  } finally {
    await pool.end();
  }
};

export const dropDatabase = (ownerUrl: string, database: string) =>
  withServer(ownerUrl, (pool) => pool.query(sql.unsafe`DROP DATABASE IF EXISTS ${sql.identifier([database])} WITH (FORCE)`));

/**
 * `checks`: from the restore template, with amcheck for the drill. `live`: from template0, plain,
 * for a database that will replace the live one (amcheck there would end up in every later dump,
 * where only a superuser could restore it).
 */
export type TargetKind = 'checks' | 'live';

const createTarget = (deps: RestoreDeps, database: string, backupId: string, kind: TargetKind) => withServer(deps.ownerUrl, async (pool) => {
  const existing = await pool.maybeOneFirst(sql.unsafe`
    SELECT coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database WHERE datname = ${database}`);
  if (existing !== null) {
    if (existing !== inProgressMark(backupId)) throw new BackupRefusedError(`database ${database} exists: a restore goes only into a new database`);
    await pool.query(sql.unsafe`DROP DATABASE ${sql.identifier([database])} WITH (FORCE)`);
  }
  const template = kind === 'live' ? 'template0' : deps.restoreTemplate;
  await pool.query(sql.unsafe`CREATE DATABASE ${sql.identifier([database])} TEMPLATE ${sql.identifier([template])}`);
  await pool.query(sql.unsafe`COMMENT ON DATABASE ${sql.identifier([database])} IS ${sql.literalValue(inProgressMark(backupId))}`);
});

/** Restores the manifest's dump into `database`, which must not exist yet (or be this restore's own half-done target). */
export const restoreDatabase = async (deps: RestoreDeps, manifest: Manifest, database: string, kind: TargetKind = 'checks'): Promise<void> => {
  await createTarget(deps, database, manifest.backupId, kind);
  try {
    const restore = runPgTool(deps.pgBinDir, 'pg_restore', ['--single-transaction', '--exit-on-error', '--no-password'],
      withDatabaseName(deps.ownerUrl, database), { stdin: true, stdout: false });
    const feeding = readObjectInto(deps, manifest.database.object, decompressor(manifest.database.compression), restore.child.stdin!)
      .catch(async (error: unknown) => {
        // pg_restore stopped reading: its own exit says why.
        if ((error as { code?: string }).code === 'EPIPE') await restore.exited;
        throw error;
      });
    await Promise.all([feeding, restore.exited]).catch((error: unknown) => {
      restore.child.kill('SIGKILL');
      throw error;
    });
    await withServer(deps.ownerUrl, (pool) => pool.query(sql.unsafe`
      COMMENT ON DATABASE ${sql.identifier([database])} IS ${sql.literalValue(`botinteligente: restored from backup ${manifest.backupId}`)}`));
  } catch (error) {
    await dropDatabase(deps.ownerUrl, database);
    throw error;
  }
};

export type RestoredCheck = { readonly differences: FingerprintDifference[]; readonly indexesChecked: number; readonly corruptIndexes: string[] };

/** Row counts and checksums against the manifest, and amcheck over every B-tree index (heap included). */
export const checkRestored = async (deps: Pick<RestoreDeps, 'maintenanceUrl'>, manifest: Manifest, database: string): Promise<RestoredCheck> => {
  const client = new pg.Client({ connectionString: withDatabaseName(deps.maintenanceUrl, database) });
  await client.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const found = await fingerprintTables(client, manifest.database.excludedData);
    await client.query('COMMIT');
    const { rows: indexes } = await client.query<{ name: string; oid: number }>(
      `SELECT i.relname AS name, i.oid::int AS oid FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
         JOIN pg_namespace n ON n.oid = i.relnamespace JOIN pg_am a ON a.oid = i.relam
        WHERE n.nspname = 'public' AND a.amname = 'btree' ORDER BY i.relname`);
    const corruptIndexes: string[] = [];
    for (const index of indexes) {
      await client.query('SELECT amcheck.bt_index_check($1::oid::regclass, true)', [index.oid]).catch((error: Error) => {
        corruptIndexes.push(`${index.name}: ${error.message}`);
      });
    }
    return { differences: compareFingerprints(manifest.database.tables, found), indexesChecked: indexes.length, corruptIndexes };
  } finally {
    await client.end().catch(() => undefined);
  }
};
