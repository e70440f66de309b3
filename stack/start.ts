// `npm start`: the whole platform on one machine (the embedded default). Brings up the local stack,
// migrates, runs the platform worker (restarted if it dies), prints where everything is, and stops
// everything on Ctrl-C.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfigOrExit } from '../core/config.ts';
import { migrateUp } from '../core/db/migrations.ts';
import { startStack } from './harness.ts';

const repositoryRoot = fileURLToPath(new URL('..', import.meta.url));
const log = (message: string) => process.stdout.write(`[start] ${message}\n`);

const config = loadConfigOrExit();
const stack = await startStack(config, { log });
const applied = await migrateUp({
  url: config.database.migrationUrl,
  directory: fileURLToPath(new URL('../migrations', import.meta.url)),
  log,
});
log(applied.length > 0 ? `applied migrations ${applied.join(', ')}` : 'schema is up to date');

let stopping = false;
let worker: ChildProcess | undefined;

const superviseWorker = async (): Promise<void> => {
  for (let restarts = 0; !stopping; restarts += 1) {
    worker = spawn(process.execPath, ['activities/worker.ts'], { cwd: repositoryRoot, stdio: 'inherit' });
    const [code, signal] = (await once(worker, 'exit')) as [number | null, NodeJS.Signals | null];
    if (stopping) return;
    const delayMs = Math.min(30_000, 1_000 * 2 ** Math.min(restarts, 5));
    log(`worker exited (${signal ?? `code ${code}`}); restarting in ${delayMs / 1000}s`);
    await sleep(delayMs);
  }
};
const supervision = superviseWorker();

const appUrl = new URL(config.database.appUrl);
appUrl.password = '***';
log(`ready:
  Temporal UI    ${stack.urls.temporalUi}
  Temporal gRPC  ${stack.urls.temporalGrpc} (namespace ${config.temporal.namespace}, task queue ${config.temporal.taskQueue})
  S3             ${stack.urls.s3} (bucket ${config.s3.bucket})
  Postgres       ${appUrl.toString()} (application role; see docs/configuration.md)
Press Ctrl-C to stop.`);

const shutdown = async (signal: NodeJS.Signals): Promise<void> => {
  if (stopping) return;
  stopping = true;
  log(`${signal}: stopping`);
  if (worker && worker.exitCode === null && worker.signalCode === null) {
    worker.kill('SIGTERM');
  }
  await supervision;
  await stack.stop();
  log('stopped');
  process.exit(0);
};
process.on('SIGINT', (signal) => void shutdown(signal));
process.on('SIGTERM', (signal) => void shutdown(signal));
