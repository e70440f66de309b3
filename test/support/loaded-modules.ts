// Preloaded into a child process (`node --import ./test/support/loaded-modules.ts?out=<file> ...`): records
// the URL of every module it loads and writes them as a JSON array to that file when it exits. A file, not
// stdout: the child's own log lines on the same pipe could split a line this long.
import { writeFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const outputFile = new URL(import.meta.url).searchParams.get('out');
if (!outputFile) throw new Error('name the file to write the loaded modules to: --import ./test/support/loaded-modules.ts?out=<file>');

const loaded = new Set<string>();
registerHooks({
  load(url, context, nextLoad) {
    loaded.add(url);
    return nextLoad(url, context);
  },
});
process.on('exit', () => writeFileSync(outputFile, JSON.stringify([...loaded])));
