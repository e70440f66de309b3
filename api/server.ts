// Entry point of the admin API: `node api/server.ts`.
import { Client, Connection } from '@temporalio/client';
import { pino } from 'pino';
import { loadConfigOrExit } from '../core/config.ts';
import { createDatabasePools, createTokenAdminPool } from '../core/db/pools.ts';
import { createWithTenant } from '../core/db/with-tenant.ts';
import { createObjectStoreClient } from '../core/object-store.ts';
import { createApp } from './app.ts';

const config = loadConfigOrExit();
const logger = pino({ level: config.logLevel, base: { process: 'api' } });
const pools = await createDatabasePools(config.database);
const tokenPool = await createTokenAdminPool(config.database);
const withTenant = createWithTenant(pools.app, { maxAttempts: config.database.tenantTxMaxAttempts, retryBaseMs: config.database.tenantTxRetryBaseMs });
// Connected on first use: the API serves its database routes while Temporal is away.
let connection: Connection | null = null;
const temporalConnection = async () => {
  connection ??= await Connection.connect({ address: config.temporal.address, connectTimeout: '2 seconds' });
  return connection;
};
const temporalHealthy = async () => {
  await (await temporalConnection()).healthService.check({});
  return true;
};
const temporal = async () => new Client({ connection: await temporalConnection(), namespace: config.temporal.namespace });

const s3 = createObjectStoreClient(config.s3);
const api = createApp({ config, pools, tokenPool, withTenant, logger, temporalHealthy, temporal, s3 });
await api.start();
logger.info({ url: `http://${config.api.host}:${config.api.port}/api/v1`, docs: '/api/v1/openapi.json' }, 'api ready');

const shutdown = async () => {
  await api.stop();
  await connection?.close();
  s3.destroy();
  await Promise.all([pools.end(), tokenPool.end()]);
  process.exit(0);
};
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
