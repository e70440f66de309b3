// `npm start` itself (stack/start.ts) on a database of its own: Temporal, killed under it, is
// restarted, and so is the API; Ctrl-C then stops everything it runs. Temporal's SQLite file keeps
// a write-ahead log and its search attributes' types stay cached (docs/stack.md#temporal-persistence).
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { open } from 'node:fs/promises';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from '@jest/globals';
import { dropDatabase } from '../activities/backups/restore-database.ts';
import { loadConfig } from '../core/config.ts';
import { connectTemporalClient } from '../core/temporal/client.ts';
import { LEAD_CONVERSATION_WORKFLOW } from '../core/temporal/lead-conversation.ts';
import { tenantSearchAttributes } from '../core/temporal/search-attributes.ts';
import { withDatabaseName } from '../stack/databases.ts';
import { isHealthy, servicePid } from '../stack/processes.ts';
import { startTemporal } from '../stack/temporal.ts';
import { processGroup } from './support/processes.ts';

const config = loadConfig();
const DATABASE = 'botinteligente_start_test';
const processes = processGroup();

const freePort = () => new Promise<number>((done) => {
  const server = createServer().listen(0, '127.0.0.1', () => {
    const { port } = server.address() as { port: number };
    server.close(() => done(port));
  });
});

const temporalAnswers = () => isHealthy(async () => {
  const { connection } = await connectTemporalClient(config.temporal, { connectTimeoutMs: 1_000 });
  await connection.workflowService.getSystemInfo({});
  await connection.close();
});

const until = async (condition: () => boolean | Promise<boolean>, timeoutMs: number) => {
  for (const deadline = Date.now() + timeoutMs; !await condition() && Date.now() < deadline; ) await sleep(100);
  return condition();
};

afterAll(async () => {
  await processes.stopAll();
  // npm start stops the Temporal it restarted; the tests after this file need one.
  if (!await temporalAnswers()) await startTemporal(config);
  await dropDatabase(config.database.migrationUrl, DATABASE);
});

describe('npm start', () => {
  it("keeps Temporal's SQLite file in write-ahead-log mode", async () => {
    if (!await temporalAnswers()) await startTemporal(config);
    // Bytes 18 and 19 of a SQLite file are its write and read versions: 2 with a write-ahead log, 1 with a rollback journal.
    const file = await open(resolve(config.stack.dir, 'temporal', 'temporal.db'));
    const { buffer } = await file.read({ buffer: Buffer.alloc(2), position: 18 }).finally(() => file.close());
    expect([...buffer]).toEqual([2, 2]);
  });

  it("keeps the search attributes' types in the server's cache instead of reading them from SQLite for every start", async () => {
    const { metrics } = await startTemporal(config); // reuses the running server
    const persistenceCalls = async (operation: string) => {
      const text = await (await fetch(metrics)).text();
      return text.split('\n').filter((line) => line.startsWith('persistence_requests{') && line.includes(`operation="${operation}"`))
        .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
    };
    const before = { reads: await persistenceCalls('GetCurrentClusterMetadata'), creations: await persistenceCalls('CreateWorkflowExecution') };
    // Started on a queue no worker polls, each with a search attribute to validate, then terminated.
    const { connection, workflow } = await connectTemporalClient(config.temporal);
    const starts = 20;
    const tenantId = randomUUID();
    try {
      for (let i = 0; i < starts; i += 1) {
        const handle = await workflow.start(LEAD_CONVERSATION_WORKFLOW, {
          workflowId: `search-attribute-cache-${tenantId}-${i}`, taskQueue: `unpolled-${tenantId}`, args: [{}],
          typedSearchAttributes: tenantSearchAttributes({ tenantId }),
        });
        await handle.terminate('test over');
      }
    } finally {
      await connection.close();
    }
    // The server publishes its counters about once a second: wait until they show the starts.
    expect(await until(async () => await persistenceCalls('CreateWorkflowExecution') - before.creations >= starts, 10_000)).toBe(true);
    // With the dev server's default (no cache) each start reads the cluster's metadata at least once.
    expect(await persistenceCalls('GetCurrentClusterMetadata') - before.reads).toBeLessThan(starts);
  });

  it('restarts Temporal and the API when they die, and stops everything on Ctrl-C', async () => {
    const [apiPort, podPort] = [await freePort(), await freePort()];
    let output = '';
    const start = await processes.start(['stack/start.ts'], {
      readyText: 'Press Ctrl-C to stop.',
      env: {
        DATABASE_URL: withDatabaseName(config.database.appUrl, DATABASE),
        DATABASE_MAINTENANCE_URL: withDatabaseName(config.database.maintenanceUrl, DATABASE),
        DATABASE_MIGRATION_URL: withDatabaseName(config.database.migrationUrl, DATABASE),
        TEMPORAL_TASK_QUEUE: 'platform-start-test',
        API_PORT: String(apiPort),
        BOT_POD_HTTP_PORT: String(podPort),
        LOG_LEVEL: 'warn',
      },
    });
    start.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    const apiLive = () => isHealthy(async () => {
      const response = await fetch(`http://127.0.0.1:${apiPort}/health/live`);
      if (!response.ok) throw new Error(String(response.status));
    });
    expect(await until(apiLive, 60_000)).toBe(true);

    const temporalPid = servicePid(config.stack.dir, 'temporal')!;
    process.kill(-temporalPid, 'SIGKILL');
    const killedAt = Date.now();
    expect(await until(() => output.includes(`temporal (pid ${temporalPid}) died; restarting in`), 10_000)).toBe(true);
    expect(await until(temporalAnswers, 60_000)).toBe(true);
    process.stderr.write(`[start] Temporal answering again ${Date.now() - killedAt} ms after it was killed under npm start\n`);

    // The API dies: it is restarted too.
    const apiPid = Number(execFileSync('pgrep', ['-P', String(start.pid), '-f', 'api/server.ts'], { encoding: 'utf8' }).trim());
    process.kill(apiPid, 'SIGKILL');
    expect(await until(() => output.includes('api exited (SIGKILL); restarting in'), 10_000)).toBe(true);
    expect(await until(apiLive, 60_000)).toBe(true);

    start.kill('SIGINT');
    expect(await until(() => start.exitCode !== null, 60_000)).toBe(true);
    expect(output).toContain('[start] stopped');
    expect(await apiLive()).toBe(false);
  }, 240_000);
});
