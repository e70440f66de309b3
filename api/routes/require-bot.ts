// The one check that a bot belongs to the tenant: 404 otherwise, for every route under a bot.
import { sql } from 'slonik';
import { z } from 'zod';
import type { TenantTransaction } from '../../core/db/with-tenant.ts';
import { HttpProblem } from '../problem.ts';

/** Answers the bot's status (`active`, `paused`, `archived`). */
export const requireBot = async (tx: TenantTransaction, tenantId: string, botId: string): Promise<string> => {
  const status = await tx.maybeOneFirst(sql.type(z.object({ status: z.string() }))`SELECT status FROM bots WHERE tenant_id = ${tenantId} AND id = ${botId}`);
  if (status === null) throw new HttpProblem(404, 'Not found', 'no such bot');
  return status;
};
