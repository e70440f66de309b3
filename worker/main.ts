// Entry point of the platform worker: `node worker/main.ts`.
import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import { pino } from 'pino';
import { loadConfigOrExit } from '../core/config.ts';
import { loadKeyring, type Keyring } from '../core/crypto/keyring.ts';
import { createDatabasePools } from '../core/db/pools.ts';
import { waitForDatabase } from '../core/db/wait-for-database.ts';
import { createObjectStoreClient } from '../core/object-store.ts';
import { connectTemporalClient, connectTemporalWorker } from '../core/temporal/client.ts';
import { registerSearchAttributes } from '../core/temporal/register-search-attributes.ts';
import { waitFor } from '../core/wait-for.ts';
import { createActivities } from '../activities/index.ts';
import { createScoringPool } from '../activities/scoring/pool.ts';
import { ensureSchedules } from './schedules.ts';

const config = loadConfigOrExit();
const logger = pino({ level: config.logLevel, base: { process: 'worker' } });

// Postgres and Temporal may come up after the worker (a restarted stack, a rolling deploy): wait for them.
const waiting = (dependency: string) => ({
  log: (attempt: number, error: unknown) => logger.warn({ attempt, err: error }, `waiting for ${dependency}`),
});
await waitForDatabase(config.database, waiting('Postgres'));
const pools = await createDatabasePools(config.database);
const s3 = createObjectStoreClient(config.s3);
const { connection, namespace } = await waitFor(() => connectTemporalWorker(config.temporal), waiting('Temporal'));
let keyring: Keyring | undefined;
const scoring = createScoringPool(config.conversation.scoring);

// Before any workflow runs: the search attributes that tenant-scoped starts name, and the Schedules.
// The client stays open: the integrity activities list and terminate lead workflows with it.
const client = await connectTemporalClient(config.temporal);
const added = await registerSearchAttributes(client.connection, namespace);
logger.info({ namespace, added }, 'search attributes in place');
const scheduleIds = await ensureSchedules(client, config);
logger.info({ scheduleIds, backupTime: config.backup.time, timeZone: config.backup.timeZone }, 'schedules in place');

try {
  const worker = await Worker.create({
    connection,
    namespace,
    taskQueue: config.temporal.taskQueue,
    workflowsPath: fileURLToPath(new URL('../workflows/index.ts', import.meta.url)),
    activities: createActivities({ config, pools, s3, temporal: client, logger, keyring: () => (keyring ??= loadKeyring(config.encryption)), scoring }),
  });
  logger.info({ taskQueue: config.temporal.taskQueue, address: config.temporal.address }, 'worker started');
  // Runtime's shutdown signals (SIGINT, SIGTERM, ...) make run() resolve after in-flight tasks finish.
  await worker.run();
  logger.info('worker stopped');
} finally {
  await client.connection.close();
  await connection.close();
  await scoring.close();
  await pools.end();
  s3.destroy();
}
