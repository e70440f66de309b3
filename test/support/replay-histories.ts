// Replays the committed workflow histories against the current workflow code, in its own process
// (the workflow bundle is built the way the worker builds it). Prints one line per history.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';

Runtime.install({ logger: new DefaultLogger('WARN') });

const directory = fileURLToPath(new URL('../histories/', import.meta.url));
const files = readdirSync(directory).filter((name) => name.endsWith('.json')).sort();
const histories = files.map((name) => {
  const { workflowId, history } = JSON.parse(readFileSync(`${directory}${name}`, 'utf8')) as { workflowId: string; history: unknown };
  return { workflowId: `${name}:${workflowId}`, history: historyFromJSON(history) };
});

let failures = 0;
for await (const result of Worker.runReplayHistories({
  workflowsPath: fileURLToPath(new URL('../../workflows/index.ts', import.meta.url)),
}, histories)) {
  if (result.error) failures += 1;
  process.stdout.write(`${result.error ? 'FAIL' : 'ok'} ${result.workflowId}${result.error ? `: ${result.error.message}` : ''}\n`);
}
process.stdout.write(`replayed ${histories.length}, failed ${failures}\n`);
process.exitCode = failures > 0 || histories.length === 0 ? 1 : 0;
