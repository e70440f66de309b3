// The migration runner against real, freshly created databases.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, appendFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from '@jest/globals';
import { createPool, sql } from 'slonik';
import { z } from 'zod';
import { loadConfig } from '../core/config.ts';
import { migrateUp, migrationStatus, readMigrationFiles } from '../core/db/migrations.ts';
import { MigrationError } from '../core/errors.ts';
import { withDatabaseName } from '../stack/databases.ts';

const config = loadConfig();
const MIGRATIONS = fileURLToPath(new URL('../migrations', import.meta.url));
const created: string[] = [];
const quiet = () => undefined;

const freshDatabase = async (): Promise<string> => {
  const name = `migrations_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const pool = await createPool(withDatabaseName(config.database.migrationUrl, 'postgres'));
  await pool.query(sql.unsafe`CREATE DATABASE ${sql.identifier([name])}`);
  await pool.end();
  created.push(name);
  return withDatabaseName(config.database.migrationUrl, name);
};

const copyOfMigrations = () => {
  const directory = mkdtempSync(join(tmpdir(), 'migrations-'));
  cpSync(MIGRATIONS, directory, { recursive: true });
  return directory;
};

afterAll(async () => {
  const pool = await createPool(withDatabaseName(config.database.migrationUrl, 'postgres'));
  for (const name of created) await pool.query(sql.unsafe`DROP DATABASE IF EXISTS ${sql.identifier([name])} WITH (FORCE)`);
  await pool.end();
});

describe('migrations', () => {
  it('apply on an empty database, and a re-run is a no-op', async () => {
    const url = await freshDatabase();
    const versions = readMigrationFiles(MIGRATIONS).map((file) => file.version);
    expect(await migrateUp({ url, directory: MIGRATIONS, log: quiet })).toEqual(versions);
    expect(await migrateUp({ url, directory: MIGRATIONS, log: quiet })).toEqual([]);
    expect((await migrationStatus({ url, directory: MIGRATIONS })).map((state) => state.status)).toEqual(versions.map(() => 'applied'));

    const pool = await createPool(url);
    const tables = await pool.manyFirst(sql.type(z.object({ name: z.string() }))`
      SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`);
    await pool.end();
    expect(tables).toEqual([
      'api_lockouts', 'api_rate_limit_hits', 'api_tokens', 'audit_logs', 'backup_drills', 'backups', 'bot_features', 'bot_images', 'bot_session_events', 'bots', 'data_change_audit', 'data_subject_erasures', 'dead_letters', 'email_deliveries', 'email_enrollments', 'email_sequence_steps', 'email_sequences', 'email_smtp_settings', 'email_suppressions', 'integrity_alert_deliveries', 'integrity_data_quality', 'integrity_findings', 'integrity_fix_log', 'integrity_fixes', 'integrity_runs', 'lead_events', 'lead_identity_pairings', 'lead_image_sends', 'lead_messages',
      'lead_stage_events', 'leads', 'owner_webhook_deliveries', 'owner_webhooks', 'pipeline_stages', 'pipelines', 'platform_events', 'products', 'schedule_follow_ups', 'schedules', 'schema_migrations',
      'scoring_rules', 'tenant_tombstones', 'tenants', 'users',
    ]);
  });

  it('refuse an applied file that was edited, naming it and both checksums', async () => {
    const url = await freshDatabase();
    const directory = copyOfMigrations();
    await migrateUp({ url, directory, log: quiet });
    appendFileSync(join(directory, '002_bots_and_catalog.sql'), '\n-- an innocent-looking edit\n');
    const refused = migrateUp({ url, directory, log: quiet });
    await expect(refused).rejects.toBeInstanceOf(MigrationError);
    await expect(refused).rejects.toThrow(/002_bots_and_catalog\.sql was edited after it was applied \(applied checksum [0-9a-f]{64}, file checksum [0-9a-f]{64}\)/);
    rmSync(directory, { recursive: true });
  });

  it('scrub the token hashes that the audit trail held before migration 012', async () => {
    const url = await freshDatabase();
    const before012 = copyOfMigrations();
    for (const file of readMigrationFiles(before012).filter((migration) => migration.version >= 12)) {
      rmSync(join(before012, `${String(file.version).padStart(3, '0')}_${file.name}.sql`));
    }
    await migrateUp({ url, directory: before012, log: quiet });
    const pool = await createPool(url);
    const tenantId = randomUUID();
    const hashesInTrail = () => pool.transaction(async (tx) => {
      await tx.query(sql.unsafe`SELECT set_config('app.current_tenant', ${tenantId}, true)`);
      return tx.oneFirst(sql.type(z.object({ n: z.number() }))`
        SELECT count(*)::int AS n FROM data_change_audit WHERE table_name = 'api_tokens' AND (new_values ? 'token_hash' OR old_values ? 'token_hash')`);
    });
    await pool.transaction(async (tx) => {
      await tx.query(sql.unsafe`SELECT set_config('app.current_tenant', ${tenantId}, true)`);
      await tx.query(sql.unsafe`INSERT INTO tenants (id, name, slug) VALUES (${tenantId}, 'T', 'before-012')`);
      await tx.query(sql.unsafe`INSERT INTO api_tokens (tenant_id, role, name, token_hash) VALUES (${tenantId}, 'tenant-admin', 'old', ${sql.binary(Buffer.alloc(32, 7))})`);
      await tx.query(sql.unsafe`UPDATE api_tokens SET revoked_at = now() WHERE tenant_id = ${tenantId}`);
    });
    expect(await hashesInTrail()).toBe(2);
    await migrateUp({ url, directory: MIGRATIONS, log: quiet });
    expect(await hashesInTrail()).toBe(0);
    await pool.end();
    rmSync(before012, { recursive: true });
  });

  it('serialize two runners started at once: each version is applied exactly once', async () => {
    const url = await freshDatabase();
    const [first, second] = await Promise.all([
      migrateUp({ url, directory: MIGRATIONS, log: quiet }),
      migrateUp({ url, directory: MIGRATIONS, log: quiet }),
    ]);
    const all = readMigrationFiles(MIGRATIONS).map((file) => file.version);
    expect([...first, ...second].sort((x, y) => x - y)).toEqual(all);
    expect([first.length, second.length].sort()).toEqual([0, all.length]);
  });

  it('refuse a gap in the numbering and a file that is not named NNN_name.sql', () => {
    const gap = copyOfMigrations();
    renameSync(join(gap, '003_pipelines_and_leads.sql'), join(gap, '004_pipelines_and_leads.sql'));
    rmSync(join(gap, '004_audit.sql'));
    expect(() => readMigrationFiles(gap)).toThrow(/004_pipelines_and_leads\.sql: expected version 003/);

    const badName = copyOfMigrations();
    appendFileSync(join(badName, '6-more.sql'), 'SELECT 1;');
    expect(() => readMigrationFiles(badName)).toThrow(/6-more\.sql: migration files are named NNN_lower_snake_case\.sql/);
    rmSync(gap, { recursive: true });
    rmSync(badName, { recursive: true });
  });

  it('roll back a failing file completely and report which file failed', async () => {
    const url = await freshDatabase();
    const directory = copyOfMigrations();
    const broken = `${String(readMigrationFiles(MIGRATIONS).length + 1).padStart(3, '0')}_broken.sql`;
    appendFileSync(join(directory, broken), 'CREATE TABLE half_done (id uuid PRIMARY KEY);\nSELECT * FROM no_such_table;\n');
    await expect(migrateUp({ url, directory, log: quiet })).rejects.toThrow(`${broken} failed: relation "no_such_table" does not exist`);
    const states = await migrationStatus({ url, directory });
    expect(states.at(-1)?.status).toBe('pending');
    const pool = await createPool(url);
    expect(await pool.oneFirst(sql.type(z.object({ present: z.boolean() }))`SELECT to_regclass('half_done') IS NOT NULL AS present`)).toBe(false);
    await pool.end();
    rmSync(directory, { recursive: true });
  });

  it('report from the CLI: status of the test database, and a clear one-line error when the database is unreachable', () => {
    const cli = (env: Record<string, string>, command: string) =>
      spawnSync(process.execPath, ['core/db/migrate-cli.ts', command], { env: { PATH: '', ...env }, encoding: 'utf8', timeout: 20_000 });
    const status = cli({ DATABASE_MIGRATION_URL: config.database.migrationUrl }, 'status');
    expect(status.status).toBe(0);
    expect(status.stdout).toMatch(/^001 +applied +tenants_and_users/m);

    const unreachable = cli({ DATABASE_MIGRATION_URL: 'postgres://bi_owner:x@127.0.0.1:9/botinteligente' }, 'up');
    expect(unreachable.status).toBe(1);
    expect(unreachable.stderr.trim()).toBe(
      'cannot reach PostgreSQL at 127.0.0.1:9 (ECONNREFUSED); start it (npm start runs the local stack) or set DATABASE_MIGRATION_URL');
  });
});
