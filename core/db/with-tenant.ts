import { setTimeout as sleep } from 'node:timers/promises';
import { sql, type DatabasePool, type DatabaseTransactionConnection } from 'slonik';
import { TransactionRetriesExhaustedError } from '../errors.ts';
import { mapDatabaseError } from './map-database-error.ts';
import { parseTenantId } from './tenant-id.ts';
import { backoffDelayMs } from '../backoff.ts';
import { isRetryableTransactionError } from './transient-errors.ts';

export type TenantTransaction = DatabaseTransactionConnection;

export type TenantTransactionOptions = {
  /** Who is acting, recorded by the audit triggers (`app.actor`). */
  readonly actor?: string;
};

export type WithTenant = <T>(
  tenantId: string,
  work: (tx: TenantTransaction) => Promise<T>,
  options?: TenantTransactionOptions,
) => Promise<T>;

export type WithTenantSettings = {
  readonly maxAttempts: number;
  readonly retryBaseMs: number;
  readonly random?: () => number;
};

/**
 * Runs `work` in one transaction scoped to a tenant: the id is validated as a UUID before any SQL,
 * the tenant is set transaction-locally with set_config(..., true) as a bound parameter, and the
 * whole transaction is retried on serialization failures and deadlocks with jittered backoff.
 * `work` may therefore run more than once: keep side effects outside it.
 */
export const createWithTenant = (pool: DatabasePool, settings: WithTenantSettings): WithTenant =>
  async (tenantId, work, options = {}) => {
    const tenant = parseTenantId(tenantId);
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await pool.transaction(async (tx) => {
          // One round trip for both settings: each statement is a write and a read on the socket.
          await tx.query(options.actor === undefined
            ? sql.unsafe`SELECT set_config('app.current_tenant', ${tenant}, true)`
            : sql.unsafe`SELECT set_config('app.current_tenant', ${tenant}, true), set_config('app.actor', ${options.actor}, true)`);
          return await work(tx);
        });
      } catch (error) {
        if (!isRetryableTransactionError(error)) throw mapDatabaseError(error);
        if (attempt >= settings.maxAttempts) throw new TransactionRetriesExhaustedError(attempt, error);
        // No ceiling: maxAttempts bounds the wait.
        await sleep(backoffDelayMs(attempt, settings.retryBaseMs, Number.POSITIVE_INFINITY, settings.random));
      }
    }
  };
