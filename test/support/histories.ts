// Workflow histories of the tests. Each run writes them under <STACK_DIR>/histories; the ones
// committed under test/histories (copied with `npm run histories:accept`) are replayed by
// test/replay.test.ts, so a change that breaks determinism fails CI.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Client } from '@temporalio/client';
import type { Config } from '../../core/config.ts';

export const recordedHistoriesDir = (config: Config): string => resolve(config.stack.dir, 'histories');

/**
 * Saves every run of a workflow (continued-as-new ones included) as `<name>.<n>.json`, in the
 * JSON the Temporal CLI and UI export (what `historyFromJSON` reads).
 */
export const saveHistories = async (config: Config, client: Client, workflowId: string, name: string): Promise<number> => {
  const directory = recordedHistoriesDir(config);
  mkdirSync(directory, { recursive: true });
  const runs: { runId: string; startTime: number }[] = [];
  for await (const run of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push({ runId: run.runId, startTime: run.startTime.getTime() });
  runs.sort((a, b) => a.startTime - b.startTime);
  runs.forEach(({ runId }, index) => {
    const history = execFileSync('temporal', [
      'workflow', 'show', '--workflow-id', workflowId, '--run-id', runId, '--output', 'json',
      '--address', config.temporal.address, '--namespace', config.temporal.namespace,
    ], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    writeFileSync(join(directory, `${name}.${index}.json`), `{"workflowId":${JSON.stringify(workflowId)},"history":${history.trim()}}\n`);
  });
  return runs.length;
};
