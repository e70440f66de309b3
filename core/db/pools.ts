import { createPool, type DatabasePool } from 'slonik';
import type { Config } from '../config.ts';

export type DatabasePools = {
  /** `bi_app`: every query runs under row-level security, inside withTenant. */
  readonly app: DatabasePool;
  /** `bi_maintenance` (BYPASSRLS): backup, integrity and retention activities only. */
  readonly maintenance: DatabasePool;
  readonly end: () => Promise<void>;
};

const poolOptions = (database: Config['database'], poolName: string) => ({
  poolName,
  maxPoolSize: database.poolMax,
  statementTimeout: database.statementTimeoutMs,
  // A database that is down is reported at once (503) instead of after slonik's 5 s timeout and 3 retries.
  connectionTimeout: database.connectTimeoutMs,
  connectionRetryLimit: 0,
  // withTenant owns retries (with jittered backoff); slonik's own immediate retries are switched off.
  transactionRetryLimit: 0,
  queryRetryLimit: 0,
});

// Slonik also emits every failed query as an 'error' event on the pool; the caller gets the same
// error thrown, but an emitter without a listener would turn it into ERR_UNHANDLED_ERROR instead.
const ignoreEmittedQueryErrors = (pool: DatabasePool) => {
  pool.on('error', () => undefined);
  return pool;
};

/** `bi_token_admin`: issues, lists and revokes API tokens (the API's token routes and the token CLI only). */
export const createTokenAdminPool = async (database: Config['database']): Promise<DatabasePool> =>
  ignoreEmittedQueryErrors(await createPool(database.tokenAdminUrl, { ...poolOptions(database, 'token-admin'), maxPoolSize: 2 }));

/**
 * The application pool returns a connection without slonik's default DISCARD ALL: that was one more
 * round trip after every transaction and every statement outside one (a third of a lead-list
 * request's, issue 19). Nothing on this pool keeps session state: the tenant and actor are set
 * transaction-locally (withTenant), session-level SET is not used anywhere, and the statements run
 * outside withTenant (rate limits, lockouts, token lookup, readiness) read no tenant table.
 */
const keepSession = async () => undefined;

export const createDatabasePools = async (database: Config['database']): Promise<DatabasePools> => {
  const app = ignoreEmittedQueryErrors(await createPool(database.appUrl, { ...poolOptions(database, 'app'), resetConnection: keepSession }));
  const maintenance = ignoreEmittedQueryErrors(await createPool(database.maintenanceUrl, poolOptions(database, 'maintenance')));
  return {
    app,
    maintenance,
    end: async () => {
      await Promise.all([app.end(), maintenance.end()]);
    },
  };
};
