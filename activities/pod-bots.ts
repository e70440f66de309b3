import { sql } from 'slonik';
import { z } from 'zod';
import type { WithTenant } from '../core/db/with-tenant.ts';

export const createPodBotsActivities = (deps: { withTenant: WithTenant }) => ({
  /** The bots a tenant's pod runs, read under RLS as that tenant. */
  async listActiveBots(tenantId: string): Promise<string[]> {
    return [...await deps.withTenant(tenantId, (tx) => tx.anyFirst(sql.type(z.object({ id: z.uuid() }))`
      SELECT id FROM bots WHERE tenant_id = ${tenantId} AND status = 'active' ORDER BY created_at, id`))];
  },
});

export type PodBotsActivities = ReturnType<typeof createPodBotsActivities>;
