// leads are unique by (bot, wa_id) and (bot, lid), not by phone: the same person reached through a
// phone JID and an @lid becomes two leads of one bot with one phone number, splitting their history.
import { sql } from 'slonik';
import { z } from 'zod';
import type { IntegrityCheck } from '../../../core/data-integrity/check.ts';
import { MAX_FINDINGS_PER_CHECK } from '../../../core/data-integrity/check.ts';
import { inScope } from './tenant-filter.ts';

const row = z.object({ tenantId: z.uuid(), botId: z.uuid(), phone: z.string(), leadIds: z.array(z.uuid()) });

export const duplicateLeadPhones: IntegrityCheck = {
  name: 'duplicate-lead-phones',
  severity: 'warning',
  description: 'Two or more leads of one bot with the same E.164 phone number.',
  platformOnly: false,
  find: async (tx, scope) => {
    const rows = await tx.any(sql.type(row)`
      SELECT tenant_id AS "tenantId", bot_id AS "botId", phone_e164 AS phone, array_agg(id ORDER BY created_at, id)::text[] AS "leadIds"
        FROM leads WHERE phone_e164 IS NOT NULL AND ${inScope(scope, sql.identifier(['tenant_id']))}
       GROUP BY tenant_id, bot_id, phone_e164 HAVING count(*) > 1
       ORDER BY 1, 2, 3 LIMIT ${MAX_FINDINGS_PER_CHECK + 1}`);
    return rows.map(({ tenantId, botId, phone, leadIds }) => ({
      key: `bot:${botId}:phone:${phone}`,
      tenantId,
      summary: `bot ${botId} has ${leadIds.length} leads with phone ${phone}`,
      details: { botId, phone, leadIds },
    }));
  },
};
