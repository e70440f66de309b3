// Forward-only migrations: numbered SQL files, each applied in its own transaction, the whole run
// under an advisory lock, with checksums so an edited file that was already applied is refused.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { MigrationError } from '../errors.ts';

export type MigrationFile = { readonly version: number; readonly name: string; readonly sql: string; readonly checksum: string };
export type MigrationState = MigrationFile & { readonly status: 'applied' | 'pending' | 'changed'; readonly appliedAt?: Date };
type AppliedRow = { version: number; name: string; checksum: string; applied_at: Date };

const FILE_PATTERN = /^(\d{3})_([a-z0-9_]+)\.sql$/;
// Any constant works; it only has to be the same for every runner of this schema.
const ADVISORY_LOCK_KEY = 727_260_001;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Reads the migration files in order; gaps, duplicates and badly named .sql files are refused. */
export const readMigrationFiles = (directory: string): MigrationFile[] => {
  const files = readdirSync(directory).filter((file) => file.endsWith('.sql')).sort();
  return files.map((file, index) => {
    const match = FILE_PATTERN.exec(file);
    if (!match) throw new MigrationError('MIGRATION_NAME', `${file}: migration files are named NNN_lower_snake_case.sql`);
    const version = Number(match[1]);
    if (version !== index + 1) {
      throw new MigrationError('MIGRATION_SEQUENCE', `${file}: expected version ${String(index + 1).padStart(3, '0')} (numbers start at 001, without gaps or duplicates)`);
    }
    const sql = readFileSync(join(directory, file), 'utf8');
    return { version, name: match[2]!, sql, checksum: sha256(sql) };
  });
};

const ensureBookkeeping = (client: pg.Client) => client.query(`
  CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    duration_ms integer NOT NULL,
    applied_by text NOT NULL DEFAULT current_user
  )`);

const readApplied = async (client: pg.Client): Promise<Map<number, AppliedRow>> => {
  const exists = await client.query("SELECT to_regclass('schema_migrations') IS NOT NULL AS present");
  if (!exists.rows[0].present) return new Map();
  const { rows } = await client.query<AppliedRow>('SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version');
  return new Map(rows.map((row) => [row.version, row]));
};

const compare = (files: MigrationFile[], applied: Map<number, AppliedRow>): MigrationState[] => {
  for (const row of applied.values()) {
    if (!files.some((file) => file.version === row.version)) {
      throw new MigrationError('MIGRATION_MISSING', `migration ${String(row.version).padStart(3, '0')}_${row.name} was applied but its file is gone`);
    }
  }
  return files.map((file) => {
    const row = applied.get(file.version);
    if (!row) return { ...file, status: 'pending' };
    return { ...file, status: row.checksum === file.checksum ? 'applied' : 'changed', appliedAt: row.applied_at };
  });
};

const refuseChanged = (states: MigrationState[], applied: Map<number, AppliedRow>) => {
  const changed = states.find((state) => state.status === 'changed');
  if (changed) {
    const file = `${String(changed.version).padStart(3, '0')}_${changed.name}.sql`;
    throw new MigrationError('MIGRATION_CHANGED',
      `${file} was edited after it was applied (applied checksum ${applied.get(changed.version)?.checksum}, file checksum ${changed.checksum}); migrations are forward-only: add a new file instead`);
  }
};

const withClient = async <T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> => {
  const client = new pg.Client({ connectionString: url, application_name: 'migrate' });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
};

export type MigrateOptions = { readonly url: string; readonly directory: string; readonly log: (message: string) => void };

/** Applies every pending migration; returns the versions it applied (none when up to date). */
export const migrateUp = ({ url, directory, log }: MigrateOptions): Promise<number[]> => {
  const files = readMigrationFiles(directory);
  return withClient(url, async (client) => {
    // Session-level lock: a second runner waits here, then finds nothing left to do.
    await client.query('SELECT pg_advisory_lock($1)', [ADVISORY_LOCK_KEY]);
    try {
      await ensureBookkeeping(client);
      const applied = await readApplied(client);
      const states = compare(files, applied);
      refuseChanged(states, applied);
      const done: number[] = [];
      for (const migration of states.filter((state) => state.status === 'pending')) {
        const started = Date.now();
        await client.query('BEGIN');
        try {
          await client.query(migration.sql);
          await client.query('INSERT INTO schema_migrations (version, name, checksum, duration_ms) VALUES ($1, $2, $3, $4)',
            [migration.version, migration.name, migration.checksum, Date.now() - started]);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK');
          throw new MigrationError('MIGRATION_FAILED', `${String(migration.version).padStart(3, '0')}_${migration.name}.sql failed: ${(error as Error).message}`, { cause: error });
        }
        log(`applied ${String(migration.version).padStart(3, '0')}_${migration.name} in ${Date.now() - started} ms`);
        done.push(migration.version);
      }
      return done;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [ADVISORY_LOCK_KEY]);
    }
  });
};

export const migrationStatus = ({ url, directory }: Omit<MigrateOptions, 'log'>): Promise<MigrationState[]> => {
  const files = readMigrationFiles(directory);
  return withClient(url, async (client) => compare(files, await readApplied(client)));
};
