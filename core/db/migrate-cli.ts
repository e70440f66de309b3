// `npm run migrate` and `npm run migrate:status`.
import { fileURLToPath } from 'node:url';
import { loadConfigOrExit } from '../config.ts';
import { MigrationError } from '../errors.ts';
import { migrateUp, migrationStatus } from './migrations.ts';

const config = loadConfigOrExit();
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
  if (!(error instanceof MigrationError)) throw error;
  console.error(`migration refused: ${error.message}`);
  process.exitCode = 1;
}
