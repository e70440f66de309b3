// `npm run migrate` and `npm run migrate:status`.
import { fileURLToPath } from 'node:url';
import { loadConfigOrExit } from '../config.ts';
import { MigrationError } from '../errors.ts';
import { migrateUp, migrationStatus } from './migrations.ts';

const config = loadConfigOrExit();

/** One line an operator can act on; never the stack trace of an expected failure. */
function explain(error: unknown): string {
  if (error instanceof MigrationError) return `migration refused: ${error.message}`;
  const code = (error as { code?: string }).code;
  const target = new URL(config.database.migrationUrl);
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ETIMEDOUT') {
    return `cannot reach PostgreSQL at ${target.host} (${code}); start it (npm start runs the local stack) or set DATABASE_MIGRATION_URL`;
  }
  if (code === '28P01' || code === '28000') return `PostgreSQL refused the login of ${target.username} (${code}); check DATABASE_MIGRATION_URL`;
  if (code === '3D000') return `database ${target.pathname.slice(1)} does not exist (${code}); create it owned by ${target.username} (docs/database.md)`;
  throw error;
}
const directory = fileURLToPath(new URL('../../migrations', import.meta.url));
const command = process.argv[2];

try {
  if (command === 'up') {
    const applied = await migrateUp({ url: config.database.migrationUrl, directory, log: (line) => console.log(line) });
    console.log(applied.length ? `${applied.length} migration(s) applied` : 'schema is up to date');
  } else if (command === 'status') {
    for (const state of await migrationStatus({ url: config.database.migrationUrl, directory })) {
      console.log(`${String(state.version).padStart(3, '0')}  ${state.status.padEnd(8)}  ${state.name}${state.appliedAt ? `  (${state.appliedAt.toISOString()})` : ''}`);
    }
  } else {
    console.error('usage: migrate-cli.ts up|status');
    process.exitCode = 64;
  }
} catch (error) {
  console.error(explain(error));
  process.exitCode = 1;
}
