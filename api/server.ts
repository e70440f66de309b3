// Entry point of the admin API: `node api/server.ts`.
import { Connection } from '@temporalio/client';
import { pino } from 'pino';
import { loadConfigOrExit } from '../core/config.ts';
import { createDatabasePools } from '../core/db/pools.ts';
import { createWithTenant } from '../core/db/with-tenant.ts';
import { createApp } from './app.ts';

const config = loadConfigOrExit();
const logger = pino({ level: config.logLevel, base: { process: 'api' } });
const pools = await createDatabasePools(config.database);
const withTenant = createWithTenant(pools.app, { maxAttempts: config.database.tenantTxMaxAttempts, retryBaseMs: config.database.tenantTxRetryBaseMs });
let temporal: Connection | null = null;
const temporalHealthy = async () => {
  temporal ??= await Connection.connect({ address: config.temporal.address, connectTimeout: '2 seconds' });
  await temporal.healthService.check({});
  return true;
};

const api = createApp({ config, pools, withTenant, logger, temporalHealthy });
await api.start();
logger.info({ url: `http://${config.api.host}:${config.api.port}/api/v1`, docs: '/api/v1/openapi.json' }, 'api ready');

const shutdown = async () => {
  await api.stop();
  await temporal?.close();
  await pools.end();
  process.exit(0);
};
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
