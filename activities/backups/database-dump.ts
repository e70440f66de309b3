// The database part of a backup: pg_dump in custom format, streamed (never a file of the whole
// dump) through compression and chunked AES-256-GCM into an S3 multipart upload. The dump runs in
// a snapshot exported by a transaction that stays open until a second connection, importing the
// same snapshot, has counted and checksummed every table: the manifest describes exactly what
// the dump holds.
import { Context } from '@temporalio/activity';
import { Upload } from '@aws-sdk/lib-storage';
import type { S3Client } from '@aws-sdk/client-s3';
import pg from 'pg';
import { performance } from 'node:perf_hooks';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { databaseObjectKey } from '../../core/object-keys.ts';
import type { ManifestBody } from '../../core/backups/manifest.ts';
import { fingerprintTables } from '../../core/backups/table-fingerprints.ts';
import { encryptStream } from '../../core/crypto/chunked-aead.ts';
import type { Keyring } from '../../core/crypto/keyring.ts';
import { measure } from '../../core/streams/measure.ts';
import { compressor, type Compression } from './compression.ts';
import { heartbeating } from './keep-alive.ts';
import { runPgTool } from './pg-tools.ts';

/** The catalog describes the bucket, not the data: restoring an old dump must not roll it back. */
export const EXCLUDED_TABLE_DATA = ['backups', 'backup_drills'] as const;
const PART_BYTES = 8 * 1024 * 1024;

export type DatabaseDump = {
  readonly keyId: string;
  readonly postgres: ManifestBody['postgres'];
  readonly database: ManifestBody['database'];
  /** Wall time of the dump pipeline and of the checksums (which run beside it). */
  readonly seconds: { readonly dump: number; readonly fingerprints: number };
};

/** Counts and checksums every table in the exported snapshot, on a connection of its own. */
const fingerprintInSnapshot = async (databaseUrl: string, snapshotId: string) => {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    // SET takes no bound parameters: the server quotes the id (format %L), before the transaction
    // begins (the import must be its first statement).
    const { rows: [statement] } = await client.query<{ text: string }>("SELECT format('SET TRANSACTION SNAPSHOT %L', $1::text) AS text", [snapshotId]);
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await client.query(statement!.text);
    const tables = await fingerprintTables(client, EXCLUDED_TABLE_DATA);
    await client.query('COMMIT');
    return tables;
  } finally {
    await client.end().catch(() => undefined);
  }
};

/** Passes bytes through, counting them and heartbeating the progress (so a stuck dump times out). */
const progress = (onBytes: (bytes: number) => void) => {
  let bytes = 0;
  return Object.assign(new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      onBytes(bytes);
      callback(null, chunk);
    },
  }), { bytes: () => bytes });
};

export const dumpDatabase = async (deps: {
  databaseUrl: string; pgBinDir: string; s3: S3Client; bucket: string; keyring: Keyring; compression: Compression; compressionLevel: number; backupId: string;
  heartbeat?: (details: unknown) => void;
}): Promise<DatabaseDump> => {
  const heartbeat = deps.heartbeat ?? ((details: unknown) => Context.current().heartbeat(details));
  const client = new pg.Client({ connectionString: deps.databaseUrl });
  await client.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const { rows: [snapshot] } = await client.query<{ id: string; server: string; schema: number }>(
      `SELECT pg_export_snapshot() AS id, current_setting('server_version') AS server,
              (SELECT coalesce(max(version), 0) FROM schema_migrations)::int AS schema`);
    const key = databaseObjectKey(deps.backupId, deps.compression);
    const dump = runPgTool(deps.pgBinDir, 'pg_dump', [
      '--format=custom', '--compress=0', `--snapshot=${snapshot!.id}`, '--no-password',
      ...EXCLUDED_TABLE_DATA.map((table) => `--exclude-table-data=${table}`),
    ], deps.databaseUrl, { stdin: false, stdout: true });
    const counted = progress((bytes) => heartbeat({ phase: 'dump', dumpBytes: bytes }));
    const stored = measure();
    const upload = new Upload({
      client: deps.s3, partSize: PART_BYTES, queueSize: 2,
      params: { Bucket: deps.bucket, Key: key, Body: stored.stream, ContentType: 'application/octet-stream' },
    });
    const started = performance.now();
    const seconds = { dump: 0, fingerprints: 0 };
    // The checksums read the same snapshot beside the dump (another core's worth of work), so the
    // backup takes about as long as the longer of the two.
    const fingerprints = fingerprintInSnapshot(deps.databaseUrl, snapshot!.id).finally(() => { seconds.fingerprints = (performance.now() - started) / 1000; });
    try {
      await Promise.all([
        pipeline(dump.child.stdout!, counted, compressor(deps.compression, deps.compressionLevel), encryptStream(deps.keyring), stored.stream),
        upload.done(),
        dump.exited,
      ]);
      seconds.dump = (performance.now() - started) / 1000;
    } catch (error) {
      dump.child.kill('SIGKILL');
      await upload.abort().catch(() => undefined);
      await fingerprints.catch(() => undefined);
      throw error;
    }
    const tables = await heartbeating(() => ({ phase: 'fingerprints', dumpBytes: counted.bytes() }), () => fingerprints, heartbeat);
    await client.query('COMMIT');
    return {
      keyId: deps.keyring.activeKeyId,
      postgres: { serverVersion: snapshot!.server, schemaVersion: snapshot!.schema },
      database: {
        object: { key, ...stored.result() }, compression: deps.compression, dumpBytes: counted.bytes(),
        excludedData: [...EXCLUDED_TABLE_DATA], tables,
      },
      seconds,
    };
  } finally {
    await client.end().catch(() => undefined);
  }
};
