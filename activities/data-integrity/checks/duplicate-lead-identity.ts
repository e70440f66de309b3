// One person as two or more leads of one bot, which splits their history, score and stage. Leads
// are unique by (bot, wa_id) and (bot, lid) only, so this happens when WhatsApp addressed the person
// by a phone JID and by an @lid before anything paired the two: the @lid lead keeps the lid as its
// wa_id while the phone lead holds it as lid, or a later message pairs a phone and a lid two leads
// already held (recorded in lead_identity_pairings). Or one number came in two formats: the
// Brazilian mobile with and without its ninth digit (E.164 allows no other formatting difference).
import { sql } from 'slonik';
import { z } from 'zod';
import type { IntegrityCheck } from '../../../core/data-integrity/check.ts';
import { MAX_FINDINGS_PER_CHECK } from '../../../core/data-integrity/check.ts';
import { mergeLeads } from '../merge-leads.ts';
import { inScope } from './tenant-filter.ts';

const row = z.object({
  tenantId: z.uuid(), botId: z.uuid(), kind: z.enum(['phone', 'lid']), identity: z.string(), leadIds: z.array(z.uuid()),
});
const fixDetails = z.object({ leadIds: z.array(z.uuid()).min(2) });

// +55 DD 6xxx-xxxx to 9xxx-xxxx is a mobile from before the ninth digit: the same line as +55 DD 9xxxx-xxxx.
const EIGHT_DIGIT_BRAZILIAN_MOBILE = String.raw`^\+55[1-9]{2}[6-9][0-9]{7}$`;
const canonicalPhone = sql.fragment`CASE WHEN phone_e164 ~ ${EIGHT_DIGIT_BRAZILIAN_MOBILE}
  THEN '+55' || substr(phone_e164, 4, 2) || '9' || substr(phone_e164, 6) ELSE phone_e164 END`;

export const duplicateLeadIdentity: IntegrityCheck = {
  name: 'duplicate-lead-identity',
  severity: 'warning',
  description: 'Two or more leads of one bot that are one person: one phone number (in either Brazilian mobile format), or one lid (an @lid lead and the lead holding that lid).',
  platformOnly: false,
  fix: {
    class: 'approval',
    description: 'Merge the newer leads into the oldest: their messages, stage events and lead events move to it, score adds up, missing details are filled in, then the newer leads are deleted.',
    appliesTo: () => true,
    apply: async (tx, finding, logBeforeImage) => {
      const [keptId, ...mergedIds] = fixDetails.parse(finding.details).leadIds;
      await mergeLeads(tx, logBeforeImage, z.uuid().parse(finding.tenantId), keptId!, mergedIds);
    },
  },
  find: async (tx, scope) => {
    const rows = await tx.any(sql.type(row)`
      WITH scoped AS (
        SELECT id, tenant_id, bot_id, created_at, phone_e164, ${canonicalPhone} AS phone, coalesce(lid, wa_id) AS lid
          FROM leads WHERE ${inScope(scope, sql.identifier(['tenant_id']))}),
      -- A lead is known by its lid (an @lid lead's wa_id is its lid when another lead holds the lid
      -- itself), and by every lid a message paired with its phone.
      lids AS (
        SELECT tenant_id, bot_id, id, created_at, lid FROM scoped
        UNION
        SELECT l.tenant_id, l.bot_id, l.id, l.created_at, p.lid FROM scoped l
          JOIN lead_identity_pairings p ON p.tenant_id = l.tenant_id AND p.bot_id = l.bot_id AND p.phone_e164 = l.phone_e164),
      groups AS (
        SELECT tenant_id, bot_id, 'phone' AS kind, phone AS identity, array_agg(id ORDER BY created_at, id) AS lead_ids
          FROM scoped WHERE phone IS NOT NULL GROUP BY tenant_id, bot_id, phone HAVING count(*) > 1
        UNION ALL
        SELECT tenant_id, bot_id, 'lid', lid, array_agg(id ORDER BY created_at, id)
          FROM lids GROUP BY tenant_id, bot_id, lid HAVING count(*) > 1)
      SELECT tenant_id AS "tenantId", bot_id AS "botId", kind, identity, lead_ids::text[] AS "leadIds"
        FROM groups ORDER BY 1, 2, 3, 4 LIMIT ${MAX_FINDINGS_PER_CHECK + 1}`);
    return rows.map(({ tenantId, botId, kind, identity, leadIds }) => ({
      // bot:<id>:phone:<+E.164, nine-digit form> (as before for one number in one format), bot:<id>:lid:<lid>.
      key: `bot:${botId}:${kind}:${identity}`,
      tenantId,
      summary: `bot ${botId} has ${leadIds.length} leads with ${kind} ${identity}`,
      details: { botId, kind, [kind]: identity, leadIds, keptLeadId: leadIds[0] },
    }));
  },
};
