// What a schedule's action must satisfy beyond its schema: the stages its segment names are this
// tenant's, and its send rate is within the platform's cap. 422 otherwise, naming what is wrong.
import { sql } from 'slonik';
import { z } from 'zod';
import type { TenantTransaction } from '../../core/db/with-tenant.ts';
import { stageIdsOf, type ScheduleAction } from '../../core/schedules/action.ts';
import { HttpProblem } from '../problem.ts';

export const requireScheduleAction = async (tx: TenantTransaction, tenantId: string, action: ScheduleAction, maxRatePerMinute: number): Promise<void> => {
  if (action.type === 'whatsapp_follow_up' && action.ratePerMinute !== undefined && action.ratePerMinute > maxRatePerMinute) {
    throw new HttpProblem(422, 'Rate above the cap', `action.ratePerMinute ${action.ratePerMinute} is above the platform's cap of ${maxRatePerMinute} messages per minute`);
  }
  const named = [...new Set(stageIdsOf(action))];
  if (named.length === 0) return;
  // Row-level security hides another tenant's stages: they are missing here like ones that never existed.
  const found = new Set(await tx.anyFirst(sql.type(z.object({ id: z.uuid() }))`
    SELECT id FROM pipeline_stages WHERE tenant_id = ${tenantId} AND id = ANY (${sql.array(named, 'uuid')})`));
  const missing = named.filter((id) => !found.has(id));
  if (missing.length > 0) throw new HttpProblem(422, 'No such stage', `action.segment.stageIds: ${missing.join(', ')} is not a stage of this tenant`);
};
