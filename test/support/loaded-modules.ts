// Preloaded into a child process (`node --import ./test/support/loaded-modules.ts ...`): records the URL
// of every module it loads and prints them as one `loaded-modules <JSON array>` line when it exits.
import { registerHooks } from 'node:module';

const loaded = new Set<string>();
registerHooks({
  load(url, context, nextLoad) {
    loaded.add(url);
    return nextLoad(url, context);
  },
});
process.on('exit', () => process.stdout.write(`\nloaded-modules ${JSON.stringify([...loaded])}\n`));

