// The Temporal dev server (SQLite file, UI) with the platform's search attributes registered.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../core/config.ts';
import { connectTemporalClient } from '../core/temporal/client.ts';
import { registerSearchAttributes } from '../core/temporal/register-search-attributes.ts';
import { PLATFORM_SEARCH_ATTRIBUTES } from '../core/temporal/search-attributes.ts';
import { isRunning, startService, stopService, waitUntilHealthy } from './processes.ts';

const SERVICE = 'temporal';

/** Healthy = the frontend answers and the namespace has the TenantId, BotId and LeadId attributes (the worker's registration, done here too). */
const ensureSearchAttributes = async (config: Config) => {
  const { connection, options: { namespace } } = await connectTemporalClient(config.temporal, { connectTimeoutMs: 2_000 });
  try {
    await connection.workflowService.getSystemInfo({});
    await registerSearchAttributes(connection, namespace);
  } finally {
    await connection.close();
  }
};

export const SUGGEST_CONTINUE_AS_NEW_AFTER_EVENTS = 1000;
const TRANSFER_QUEUE_READS_PER_SECOND = 1000;
// SQLite's default rollback journal writes, syncs and deletes a journal file on every commit, and
// its single writer then waits on the disk: the engine floor ran at 50 msg/s with it and 86-99 with
// a write-ahead log. synchronous=full still syncs each commit, so a commit survives a power loss as
// it did before (docs/stack.md#temporal-persistence).
const SQLITE_PRAGMAS = ['journal_mode=wal', 'synchronous=full'];

export const startTemporal = async (config: Config): Promise<{ reused: boolean; grpc: string; ui: string; metrics: string }> => {
  const [host, port] = config.temporal.address.split(':') as [string, string];
  const urls = {
    grpc: config.temporal.address,
    ui: `http://${host}:${config.stack.temporalUiPort}`,
    metrics: `http://${host}:${config.stack.temporalMetricsPort}/metrics`,
  };
  if (await isRunning(() => ensureSearchAttributes(config))) return { reused: true, ...urls };
  const dir = resolve(config.stack.dir, 'temporal');
  mkdirSync(dir, { recursive: true });
  startService(config.stack.dir, SERVICE, resolve(config.stack.toolsDir, 'bin', 'temporal'), [
    'server', 'start-dev', '--ip', host, '--port', port, '--ui-port', String(config.stack.temporalUiPort),
    '--metrics-port', String(config.stack.temporalMetricsPort),
    '--db-filename', join(dir, 'temporal.db'), '--namespace', config.temporal.namespace, '--log-level', 'warn',
    ...SQLITE_PRAGMAS.flatMap((pragma) => ['--sqlite-pragma', pragma]),
    ...PLATFORM_SEARCH_ATTRIBUTES.flatMap((key) => ['--search-attribute', `${key.name}=Keyword`]),
    // Suggest continue-as-new after 1,000 events instead of 4,096, so every local run and test
    // exercises the hand-over between runs of a busy lead conversation.
    '--dynamic-config-value', `limit.historyCount.suggestContinueAsNew=${SUGGEST_CONTINUE_AS_NEW_AFTER_EVENTS}`,
    // History hands each new workflow or activity task to matching through its transfer queue, which
    // it reads at most 20 times a second by default: on this one-server stack every task then waited
    // for the next read, 33-44 ms at the median, and a lead's message has two (docs/stack.md#temporal-dispatch).
    '--dynamic-config-value', `history.transferProcessorMaxPollRPS=${TRANSFER_QUEUE_READS_PER_SECOND}`,
    // The dev server turns the search attributes' cache off unless told otherwise, so every start,
    // upsert and visibility write with one read the cluster's metadata from SQLite again.
    '--dynamic-config-value', 'system.forceSearchAttributesCacheRefreshOnRead=false',
  ]);
  await waitUntilHealthy(config.stack.dir, SERVICE, () => ensureSearchAttributes(config));
  return { reused: false, ...urls };
};

export const stopTemporal = (config: Config) => stopService(config.stack.dir, SERVICE);
