// The one check that a bot belongs to the tenant: 404 otherwise, for every route under a bot.
import { sql } from 'slonik';
import type { TenantTransaction } from '../../core/db/with-tenant.ts';
import { HttpProblem } from '../problem.ts';

export const requireBot = async (tx: TenantTransaction, tenantId: string, botId: string): Promise<void> => {
  if (!await tx.exists(sql.unsafe`SELECT 1 FROM bots WHERE tenant_id = ${tenantId} AND id = ${botId}`)) throw new HttpProblem(404, 'Not found', 'no such bot');
};
