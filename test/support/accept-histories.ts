// `npm run histories:accept`: replaces the committed histories with the ones the last test run
// recorded, after a deliberate change of workflow code (old runs then need a patch or a version).
import { copyFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigOrExit } from '../../core/config.ts';
import { recordedHistoriesDir } from './histories.ts';

const from = recordedHistoriesDir(loadConfigOrExit());
const to = fileURLToPath(new URL('../histories/', import.meta.url));
const recorded = readdirSync(from).filter((name) => name.endsWith('.json'));
if (recorded.length === 0) {
  process.stderr.write(`no recorded histories in ${from}: run npm test first\n`);
  process.exit(1);
}
for (const name of readdirSync(to).filter((file) => file.endsWith('.json'))) rmSync(join(to, name));
for (const name of recorded) copyFileSync(join(from, name), join(to, name));
process.stdout.write(`accepted ${recorded.length} histories into test/histories\n`);
