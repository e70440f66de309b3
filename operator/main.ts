// Entry point of the operator: `node operator/main.ts` (`npm run operator`). It serves the tenant
// reconcile's Kubernetes activities on OPERATOR_TASK_QUEUE (every replica), and the replica that
// holds the Lease also runs the controller that signals `tenant/<tenantId>` on every change.
import { hostname } from 'node:os';
import { Worker } from '@temporalio/worker';
import { pino } from 'pino';
import { createBotTenantActivities } from '../activities/bot-tenant/index.ts';
import { loadConfigOrExit } from '../core/config.ts';
import { createKubeClients, loadKubeConfig } from '../core/kubernetes/clients.ts';
import { connectTemporalClient, connectTemporalWorker } from '../core/temporal/client.ts';
import { waitFor } from '../core/wait-for.ts';
import { createOperator } from './operator.ts';

const config = loadConfigOrExit();
const logger = pino({ level: config.logLevel, base: { process: 'operator' } });
const log = (message: string, details: object = {}) => logger.info(details, message);

const kube = createKubeClients(loadKubeConfig(config.kubernetes), config.kubernetes.namespace);
const waiting = { log: (attempt: number, error: unknown) => logger.warn({ attempt, err: error }, 'waiting for Temporal') };
const { connection, namespace } = await waitFor(() => connectTemporalWorker(config.temporal), waiting);
const client = await waitFor(() => connectTemporalClient(config.temporal), waiting);
const operator = createOperator({
  kube, temporal: client, identity: hostname(), log,
  taskQueues: { platform: config.temporal.taskQueue, operator: config.operator.taskQueue },
});

try {
  const worker = await Worker.create({
    connection,
    namespace,
    taskQueue: config.operator.taskQueue,
    activities: createBotTenantActivities({
      kube, botPod: { image: config.operator.botPodImage, sourceSecretName: config.operator.botPodSecretName },
    }),
  });
  operator.start();
  logger.info({ taskQueue: config.operator.taskQueue, namespace: kube.namespace }, 'operator started');
  // The runtime's shutdown signals (SIGINT, SIGTERM) make run() resolve after in-flight activities finish.
  await worker.run();
  logger.info('operator stopped');
} finally {
  await operator.stop();
  await client.connection.close();
  await connection.close();
}
