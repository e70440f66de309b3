// Every tenant gets a pod: once at start, then at each look at the tenants list, so a tenant
// created through the API runs within seconds, without a restart.
import { setTimeout as sleep } from 'node:timers/promises';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import type { PodRuntime, PodTenant } from '../core/pod-runtime.ts';

/** How often the tenants list is read again. */
export const TENANT_POLL_MS = 3_000;

export type ListTenants = () => Promise<readonly PodTenant[]>;

const tenantRow = z.object({ tenantId: z.uuid(), slug: z.string(), displayName: z.string() });

/** Every tenant, oldest first (the maintenance role reads across tenants). */
export const listTenants = (pool: DatabasePool): ListTenants => () =>
  pool.any(sql.type(tenantRow)`SELECT id AS "tenantId", slug, name AS "displayName" FROM tenants ORDER BY created_at, id`);

/** Ensures a pod for every listed tenant; returns their ids. */
export const ensureTenantPods = async (list: ListTenants, runtime: PodRuntime): Promise<readonly string[]> => {
  const tenants = await list();
  for (const tenant of tenants) await runtime.ensurePod(tenant);
  return tenants.map((tenant) => tenant.tenantId);
};

/**
 * Looks at the tenants list every `intervalMs` until `signal` aborts; a failed look is retried at the
 * next. A tenant that left the list (deleted: docs/tenant-delete.md) has its pod stopped; its volume stays.
 */
export const watchTenants = async (list: ListTenants, runtime: PodRuntime, options: {
  readonly signal: AbortSignal; readonly log: (message: string) => void; readonly intervalMs?: number;
  /** The tenants whose pods run already (ensured at start). */
  readonly running?: readonly string[];
}): Promise<void> => {
  let running = new Set(options.running ?? []);
  while (!options.signal.aborted) {
    await sleep(options.intervalMs ?? TENANT_POLL_MS, undefined, { signal: options.signal }).catch(() => undefined);
    if (options.signal.aborted) return;
    await ensureTenantPods(list, runtime).then(async (listed) => {
      const gone = [...running].filter((tenantId) => !listed.includes(tenantId));
      for (const tenantId of gone) {
        await runtime.removePod(tenantId);
        options.log(`tenant ${tenantId} is gone: its bot pod is stopped`);
      }
      running = new Set(listed);
    }).catch((error: unknown) => {
      options.log(`could not read the tenants list: ${error instanceof Error ? error.message : String(error)}`);
    });
  }
};
