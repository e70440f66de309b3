// Backups of a generated database of about 1 GB (`--backup-mb=` to change): the platform's backup
// (pg_dump -Fc uncompressed, compressed, encrypted, uploaded, then per-table checksums) beside a
// raw `pg_dump -Fc > /dev/null` in the same run, each compressor's ratio and speed, and the
// restore (verification pass, then download, decrypt, decompress, pg_restore) beside a raw
// `pg_restore` of a local dump file.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createPool, sql } from 'slonik';
import { z } from 'zod';
import { dumpDatabase, type DatabaseDump } from '../activities/backups/database-dump.ts';
import { dropDatabase, restoreDatabase } from '../activities/backups/restore-database.ts';
import { readManifest, verifyBackup } from '../activities/backups/verify.ts';
import { newBackupId } from '../core/backups/backup-id.ts';
import { manifestKey } from '../core/object-keys.ts';
import { sealManifest } from '../core/backups/manifest.ts';
import type { Config } from '../core/config.ts';
import { loadKeyring } from '../core/crypto/keyring.ts';
import { withDatabaseName } from '../core/db/database-url.ts';
import { migrateUp } from '../core/db/migrations.ts';
import { createObjectStoreClient } from '../core/object-store.ts';
import { recreateDatabase } from '../stack/databases.ts';

const DATABASE = 'botinteligente_bench_backup';
const MB = 1024 * 1024;
const round = (value: number, digits = 1) => Number(value.toFixed(digits));

/** One tenant, 2,000 leads, and messages until the database reaches the size asked for. */
const generate = async (ownerUrl: string, targetBytes: number, log: (message: string) => void) => {
  const pool = await createPool(ownerUrl, { maximumPoolSize: 1, statementTimeout: 'DISABLE_TIMEOUT' });
  try {
    const tenantId = '00000000-0000-4000-8000-00000000b001';
    const botId = '00000000-0000-4000-8000-00000000b002';
    await pool.transaction(async (tx) => {
      await tx.query(sql.unsafe`SELECT set_config('app.current_tenant', ${tenantId}, true)`);
      await tx.query(sql.unsafe`INSERT INTO tenants (id, name, slug) VALUES (${tenantId}, 'Bench', 'bench-backup')`);
      await tx.query(sql.unsafe`INSERT INTO bots (id, tenant_id, name, phone_e164) VALUES (${botId}, ${tenantId}, 'Bot', '+5511999990000')`);
      await tx.query(sql.unsafe`
        INSERT INTO leads (tenant_id, bot_id, wa_id, name, score)
        SELECT ${tenantId}, ${botId}, '5511' || lpad(n::text, 9, '0'), 'Cliente ' || n, n % 120 FROM generate_series(1, 2000) n`);
    });
    const size = () => pool.oneFirst(sql.type(z.object({ bytes: z.string() }))`SELECT pg_database_size(current_database())::text AS bytes`).then(Number);
    for (let batch = 0; (await size()) < targetBytes; batch += 1) {
      await pool.transaction(async (tx) => {
        await tx.query(sql.unsafe`SELECT set_config('app.current_tenant', ${tenantId}, true)`);
        // Conversation-like text: repeated phrases with varying numbers, names and a hash.
        await tx.query(sql.unsafe`
          INSERT INTO lead_messages (tenant_id, bot_id, lead_id, direction, wa_message_id, body, created_at)
          SELECT ${tenantId}, ${botId}, l.id, CASE WHEN n % 2 = 0 THEN 'inbound' ELSE 'outbound' END,
                 'BENCH-' || ${batch} || '-' || n,
                 (ARRAY['Olá! Quanto custa o plano ', 'Temos o Plano Pro por BRL ', 'Quero comprar o pacote ', 'Pode me mandar o catálogo de '])[1 + n % 4]
                   || (n % 997) || ' para ' || (n % 50) || ' usuários? Pedido ' || md5(n::text || ${batch}),
                 now() - n * interval '1 second'
            FROM generate_series(1, 200000) n JOIN LATERAL (SELECT id FROM leads ORDER BY id OFFSET (n % 2000) LIMIT 1) l ON true`);
      });
      log(`generated ${Math.round((await size()) / MB)} MB`);
    }
    await pool.query(sql.unsafe`VACUUM ANALYZE`);
    return await size();
  } finally {
    await pool.end();
  }
};

const timed = <T>(work: () => T) => {
  const started = performance.now();
  const result = work();
  return { result, seconds: (performance.now() - started) / 1000 };
};
const timedAsync = async <T>(work: () => Promise<T>) => {
  const started = performance.now();
  const result = await work();
  return { result, seconds: (performance.now() - started) / 1000 };
};

const pgTool = (config: Config, tool: string, args: string[], url: string) => {
  const parsed = new URL(url);
  const password = decodeURIComponent(parsed.password);
  parsed.password = '';
  const run = spawnSync(resolve(config.backup.pgBinDir, tool), [...args, `--dbname=${parsed.toString()}`], {
    env: { PGPASSWORD: password }, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 16 * MB,
  });
  if (run.status !== 0) throw new Error(`${tool} failed: ${run.stderr.toString()}`);
};

export const runBackupBench = async (base: Config, log: (message: string) => void, targetMb: number) => {
  const ownerUrl = withDatabaseName(base.database.migrationUrl, DATABASE);
  const maintenanceUrl = withDatabaseName(base.database.maintenanceUrl, DATABASE);
  await recreateDatabase(ownerUrl, DATABASE);
  await migrateUp({ url: ownerUrl, directory: fileURLToPath(new URL('../migrations', import.meta.url)), log: () => undefined });
  log(`backup: generating a ${targetMb} MB database`);
  const databaseBytes = await generate(ownerUrl, targetMb * MB, log);
  const s3 = createObjectStoreClient(base.s3);
  const keyring = loadKeyring(base.encryption);
  const scratch = mkdtempSync(join(tmpdir(), 'backup-bench-'));
  try {
    log('backup: raw pg_dump -Fc > /dev/null');
    const raw = timed(() => pgTool(base, 'pg_dump', ['--format=custom'], maintenanceUrl));
    const backups: Record<string, { seconds: number; dump: DatabaseDump; backupId: string }> = {};
    for (const [compression, compressionLevel] of [['zstd', 1], ['zstd', 3], ['gzip', 6]] as const) {
      log(`backup: platform backup with ${compression} ${compressionLevel}`);
      const backupId = newBackupId(new Date(), randomBytes(4).toString('hex'));
      const run = await timedAsync(() => dumpDatabase({
        databaseUrl: maintenanceUrl, pgBinDir: base.backup.pgBinDir, s3, bucket: base.s3.bucket, keyring, compression, compressionLevel, backupId,
        heartbeat: () => undefined,
      }));
      const startedAt = new Date().toISOString();
      await s3.send(new PutObjectCommand({
        Bucket: base.s3.bucket, Key: manifestKey(backupId),
        Body: sealManifest(keyring, {
          format: 'botinteligente-backup/1', backupId, kind: 'manual', startedAt, completedAt: startedAt,
          keyId: run.result.keyId, postgres: run.result.postgres, database: run.result.database, sessions: [],
        }),
      }));
      backups[`${compression}-${compressionLevel}`] = { seconds: run.seconds, dump: run.result, backupId };
    }
    // The dump alone (pg_dump -Fc uncompressed into a file): what compression and the pipeline add to.
    const dumpFile = join(scratch, 'raw.dump');
    log('backup: raw pg_dump -Fc to a file, then raw pg_restore');
    const uncompressed = timed(() => pgTool(base, 'pg_dump', ['--format=custom', '--compress=0'], maintenanceUrl));
    pgTool(base, 'pg_dump', ['--format=custom', `--file=${dumpFile}`], maintenanceUrl);
    const rawTarget = 'bench_raw_restore';
    await dropDatabase(base.database.migrationUrl, rawTarget);
    const createdRaw = await createPool(withDatabaseName(base.database.migrationUrl, 'postgres'), { maximumPoolSize: 1 });
    await createdRaw.query(sql.unsafe`CREATE DATABASE ${sql.identifier([rawTarget])} TEMPLATE ${sql.identifier([base.backup.restoreTemplate])}`);
    await createdRaw.end();
    const rawRestore = timed(() => pgTool(base, 'pg_restore', [dumpFile], withDatabaseName(base.database.migrationUrl, rawTarget)));
    await dropDatabase(base.database.migrationUrl, rawTarget);

    log('backup: platform verification and restore (zstd 1, the default)');
    const deps = { s3, bucket: base.s3.bucket, keyring };
    const verification = await timedAsync(() => verifyBackup(deps, backups['zstd-1']!.backupId));
    const platformTarget = 'bench_platform_restore';
    await dropDatabase(base.database.migrationUrl, platformTarget);
    const manifest = await readManifest(deps, backups['zstd-1']!.backupId);
    const restore = await timedAsync(() => restoreDatabase({
      ...deps, ownerUrl: base.database.migrationUrl, maintenanceUrl: base.database.maintenanceUrl,
      pgBinDir: base.backup.pgBinDir, restoreTemplate: base.backup.restoreTemplate,
    }, manifest, platformTarget));
    await dropDatabase(base.database.migrationUrl, platformTarget);

    const dumpMb = backups['zstd-1']!.dump.database.dumpBytes / MB;
    const compressors = Object.fromEntries(Object.entries(backups).map(([name, backup]) => [name, {
      storedMb: round(backup.dump.database.object.bytes / MB),
      ratio: round(backup.dump.database.dumpBytes / backup.dump.database.object.bytes, 2),
      backupSeconds: round(backup.seconds, 2),
      pipelineSeconds: round(backup.dump.seconds.dump, 2),
      checksumSeconds: round(backup.dump.seconds.fingerprints, 2),
      dumpMbPerSecond: round(backup.dump.database.dumpBytes / MB / backup.seconds),
    }]));
    return {
      databaseMb: round(databaseBytes / MB),
      dumpMb: round(dumpMb),
      rawPgDump: { seconds: round(raw.seconds, 2), dumpMbPerSecond: round(dumpMb / raw.seconds)},
      rawPgDumpUncompressed: { seconds: round(uncompressed.seconds, 2), dumpMbPerSecond: round(dumpMb / uncompressed.seconds) },
      compressors,
      backupVersusRawPgDump: round(compressors['zstd-1']!.dumpMbPerSecond / (dumpMb / raw.seconds), 2),
      rawPgDumpFileMb: round(statSync(dumpFile).size / MB),
      restore: {
        rawPgRestoreSeconds: round(rawRestore.seconds, 2),
        platformRestoreSeconds: round(restore.seconds, 2),
        verificationSeconds: round(verification.seconds, 2),
        restoreVersusRaw: round(restore.seconds / rawRestore.seconds, 2),
        rtoSeconds: round(verification.seconds + restore.seconds, 2),
      },
    };
  } finally {
    await dropDatabase(base.database.migrationUrl, DATABASE);
    rmSync(scratch, { recursive: true, force: true });
    s3.destroy();
  }
};
