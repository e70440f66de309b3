// Entry point of the admin API: `node api/server.ts`.
import { pino } from 'pino';
import { loadConfigOrExit } from '../core/config.ts';
import { createDatabasePools, createTokenAdminPool } from '../core/db/pools.ts';
import { waitForDatabase } from '../core/db/wait-for-database.ts';
import { createWithTenant } from '../core/db/with-tenant.ts';
import { createObjectStoreClient } from '../core/object-store.ts';
import { createKubeClients, loadKubeConfig } from '../core/kubernetes/clients.ts';
import { createKubernetesPodRuntime } from '../core/kubernetes/pod-runtime.ts';
import { createApp } from './app.ts';
import { createTemporalAccess } from './temporal-access.ts';

const config = loadConfigOrExit();
const logger = pino({ level: config.logLevel, base: { process: 'api' } });
await waitForDatabase(config.database, { log: (attempt, error) => logger.warn({ attempt, err: error }, 'waiting for Postgres') });
const pools = await createDatabasePools(config.database);
const tokenPool = await createTokenAdminPool(config.database);
const withTenant = createWithTenant(pools.app, { maxAttempts: config.database.tenantTxMaxAttempts, retryBaseMs: config.database.tenantTxRetryBaseMs });
const temporalAccess = createTemporalAccess(config.temporal);
const s3 = createObjectStoreClient(config.s3);
const podRuntime = config.pods.runtime === 'kubernetes'
  ? createKubernetesPodRuntime(createKubeClients(loadKubeConfig(config.kubernetes), config.kubernetes.namespace))
  : undefined;
const api = createApp({ config, pools, tokenPool, withTenant, logger, temporalHealthy: temporalAccess.healthy, temporal: temporalAccess.client, s3, podRuntime });
await api.start();
logger.info({ url: `http://${config.api.host}:${config.api.port}/api/v1`, docs: '/api/v1/openapi.json' }, 'api ready');

const shutdown = async () => {
  await api.stop();
  await temporalAccess.close();
  s3.destroy();
  await Promise.all([pools.end(), tokenPool.end()]);
  process.exit(0);
};
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
