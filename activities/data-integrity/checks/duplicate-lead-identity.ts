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
const phoneOf = sql.identifier(['l', 'phone_e164']);
const canonicalPhone = sql.fragment`CASE WHEN ${phoneOf} ~ ${EIGHT_DIGIT_BRAZILIAN_MOBILE}
  THEN '+55' || substr(${phoneOf}, 4, 2) || '9' || substr(${phoneOf}, 6) ELSE ${phoneOf} END`;
const NINE_DIGIT_BRAZILIAN_MOBILE = String.raw`^\+55[1-9]{2}9[6-9][0-9]{7}$`;
/** The canonical `p.phone` in the old eight-digit form, when it is a mobile that had one. */
const eightDigitForm = sql.fragment`CASE WHEN p.phone ~ ${NINE_DIGIT_BRAZILIAN_MOBILE}
  THEN '+55' || substr(p.phone, 4, 2) || substr(p.phone, 7) ELSE p.phone END`;

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
    // Each branch reads leads through its own index or hash join: a shared CTE would be materialised
    // and scanned whole by every branch (this check runs over every lead of the platform each hour).
    const leadsInScope = (alias: string) => inScope(scope, sql.identifier([alias, 'tenant_id']));
    const rows = await tx.any(sql.type(row)`
      -- The duplicated phones, in their canonical form, computed once (MATERIALIZED: inlined, each
      -- parallel worker of the join below recomputed it whole). Grouped by the stored phone, in the
      -- order of leads_phone_idx (no hash of a million groups); the two formats of one mobile are
      -- then found from the old eight-digit form, the only one that differs from its canonical form.
      WITH phones AS MATERIALIZED (
        SELECT tenant_id, bot_id, ${canonicalPhone} AS phone FROM leads l
         WHERE l.phone_e164 IS NOT NULL AND ${leadsInScope('l')}
         GROUP BY l.tenant_id, l.bot_id, l.phone_e164 HAVING count(*) > 1
        UNION
        SELECT tenant_id, bot_id, ${canonicalPhone} FROM leads l
         -- The length first: it rules out almost every phone for a fraction of the regex's cost.
         WHERE length(l.phone_e164) = 13 AND l.phone_e164 ~ ${EIGHT_DIGIT_BRAZILIAN_MOBILE} AND ${leadsInScope('l')}
           AND EXISTS (SELECT 1 FROM leads t WHERE t.tenant_id = l.tenant_id AND t.bot_id = l.bot_id AND t.phone_e164 = ${canonicalPhone})),
      phone_members AS (
        -- One index lookup per group, fenced by OFFSET 0: as a join, Postgres matched on (tenant,
        -- bot) alone and filtered every lead of a bot against every group (10 s at 1% duplicates).
        SELECT p.tenant_id, p.bot_id, p.phone, l.id, l.created_at
          FROM phones p CROSS JOIN LATERAL (
            SELECT l.id, l.created_at FROM leads l
             WHERE l.tenant_id = p.tenant_id AND l.bot_id = p.bot_id AND l.phone_e164 IN (p.phone, ${eightDigitForm}) OFFSET 0) l),
      lid_members AS (
        -- An @lid lead (its wa_id is the lid, its lid column empty) and the lead holding that lid.
        SELECT h.tenant_id, h.bot_id, h.lid, member.id, member.created_at
          FROM leads h JOIN leads w ON w.tenant_id = h.tenant_id AND w.bot_id = h.bot_id AND w.wa_id = h.lid AND w.lid IS NULL
          CROSS JOIN LATERAL (VALUES (h.id, h.created_at), (w.id, w.created_at)) AS member (id, created_at)
         WHERE h.lid IS NOT NULL AND ${leadsInScope('h')}
        UNION
        -- A phone and a lid a message paired: the leads holding either.
        SELECT p.tenant_id, p.bot_id, p.lid, l.id, l.created_at
          FROM lead_identity_pairings p JOIN leads l ON l.tenant_id = p.tenant_id AND l.bot_id = p.bot_id
           AND (l.phone_e164 = p.phone_e164 OR l.lid = p.lid OR (l.lid IS NULL AND l.wa_id = p.lid))
         WHERE ${leadsInScope('p')}),
      groups AS (
        SELECT tenant_id, bot_id, 'phone' AS kind, phone AS identity, array_agg(id ORDER BY created_at, id) AS lead_ids
          FROM phone_members GROUP BY tenant_id, bot_id, phone
        UNION ALL
        SELECT tenant_id, bot_id, 'lid', lid, array_agg(id ORDER BY created_at, id)
          FROM lid_members GROUP BY tenant_id, bot_id, lid HAVING count(*) > 1)
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
