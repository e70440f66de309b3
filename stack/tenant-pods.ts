// Every tenant gets a pod: once at start, then at each look at the tenants list, so a tenant
// created through the API runs within seconds, without a restart.
import { setTimeout as sleep } from 'node:timers/promises';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import type { PodRuntime } from '../core/pod-runtime.ts';

/** How often the tenants list is read again. */
export const TENANT_POLL_MS = 3_000;

export type ListTenants = () => Promise<readonly string[]>;

/** Every tenant, oldest first (the maintenance role reads across tenants). */
export const listTenants = (pool: DatabasePool): ListTenants => () =>
  pool.anyFirst(sql.type(z.object({ id: z.uuid() }))`SELECT id FROM tenants ORDER BY created_at, id`);

/** Ensures a pod for every listed tenant; returns the tenants. */
export const ensureTenantPods = async (list: ListTenants, runtime: PodRuntime): Promise<readonly string[]> => {
  const tenantIds = await list();
  for (const tenantId of tenantIds) await runtime.ensurePod(tenantId);
  return tenantIds;
};

/** Looks at the tenants list every `intervalMs` until `signal` aborts; a failed look is retried at the next. */
export const watchTenants = async (list: ListTenants, runtime: PodRuntime, options: {
  readonly signal: AbortSignal; readonly log: (message: string) => void; readonly intervalMs?: number;
}): Promise<void> => {
  while (!options.signal.aborted) {
    await sleep(options.intervalMs ?? TENANT_POLL_MS, undefined, { signal: options.signal }).catch(() => undefined);
    if (options.signal.aborted) return;
    await ensureTenantPods(list, runtime).catch((error: unknown) => {
      options.log(`could not read the tenants list: ${error instanceof Error ? error.message : String(error)}`);
    });
  }
};
