// A lead's score is the sum of what its inbound messages scored, and is_qualified says whether that
// reaches its bot's threshold, or the lead qualified on its complete details (leads_qualification keeps it so). Both drift when rows are written
// around the ingest or the trigger (a restore, a manual fix, a disabled trigger).
//
// Cost: the qualification is compared for every lead (one scan). Recomputing a score evaluates every
// message of the lead, far too slow for all leads (10M messages), so only the leads changed in the
// last 24 h are recomputed, at most SCORE_SAMPLE_LEADS of them, the most recently changed first: the
// hourly run sees each change many times, and a change made around the ingest still moves updated_at.
import { sql, type DatabaseTransactionConnection } from 'slonik';
import { z } from 'zod';
import { MAX_FINDINGS_PER_CHECK, type Finding, type IntegrityCheck } from '../../../core/data-integrity/check.ts';
import { recomputeLeadScores } from './recompute-lead-scores.ts';
import { inScope } from './tenant-filter.ts';

export const SCORE_SAMPLE_LEADS = 1_000;

const leadRow = z.object({ leadId: z.uuid(), tenantId: z.uuid(), botId: z.uuid(), score: z.number(), isQualified: z.boolean(), threshold: z.number(),
  qualifiedOnInfo: z.boolean() });
type LeadRow = z.infer<typeof leadRow>;
const LEAD_COLUMNS = sql.fragment`l.id AS "leadId", l.tenant_id AS "tenantId", l.bot_id AS "botId", l.score, l.is_qualified AS "isQualified",
  b.qualification_threshold AS threshold, l.qualified_on_info AS "qualifiedOnInfo"`;

const fixable = z.object({ leadId: z.uuid(), recomputedScore: z.number().nullable() });

const finding = (lead: LeadRow, recomputedScore: number | null): Finding | null => {
  const score = recomputedScore ?? lead.score;
  const qualified = score >= lead.threshold || lead.qualifiedOnInfo;
  if (score === lead.score && qualified === lead.isQualified) return null;
  const scorePart = recomputedScore === null || recomputedScore === lead.score ? `score ${lead.score}` : `stored score ${lead.score}, recomputed ${recomputedScore}`;
  return {
    key: `lead:${lead.leadId}`,
    tenantId: lead.tenantId,
    summary: `lead ${lead.leadId}: ${scorePart}; is_qualified ${lead.isQualified} where the bot's threshold ${lead.threshold} says ${qualified}`,
    details: { leadId: lead.leadId, botId: lead.botId, score: lead.score, recomputedScore, isQualified: lead.isQualified, threshold: lead.threshold },
  };
};

const leadWithThreshold = (tx: DatabaseTransactionConnection, leadId: string) => tx.maybeOne(sql.type(leadRow)`
  SELECT ${LEAD_COLUMNS} FROM leads l JOIN bots b ON b.tenant_id = l.tenant_id AND b.id = l.bot_id WHERE l.id = ${leadId} FOR UPDATE OF l`);

export const createDerivedLeadScore = (scoring: { readonly maxChars: number }): IntegrityCheck => ({
  name: 'derived-lead-score',
  severity: 'warning',
  description: "A lead whose stored score differs from the score recomputed from its messages and its bot's rules, or whose is_qualified disagrees with its bot's threshold.",
  platformOnly: false,
  fix: {
    class: 'auto',
    description: 'Set the score recomputed now (when the finding recomputed one) and the qualification it gives; a lead that becomes qualified gets its owner event and qualified stage from the triggers.',
    appliesTo: () => true,
    apply: async (tx, found, logBeforeImage) => {
      const { leadId, recomputedScore } = fixable.parse(found.details);
      const lead = await leadWithThreshold(tx, leadId);
      if (lead === null) throw new Error(`lead ${leadId} no longer exists`);
      // Recomputed again in this transaction: a message scored since the finding counts.
      const score = recomputedScore === null ? lead.score : (await recomputeLeadScores(tx, [lead], scoring.maxChars)).get(leadId) ?? lead.score;
      const qualified = score >= lead.threshold || lead.qualifiedOnInfo;
      await logBeforeImage({ table: 'leads', keyColumn: 'id', key: leadId, operation: 'update', columns: ['score', 'is_qualified', 'qualified_at', 'pipeline_id', 'stage_id'] });
      await tx.query(sql.unsafe`
        UPDATE leads SET score = ${score}, is_qualified = ${qualified},
                         qualified_at = CASE WHEN ${qualified} THEN coalesce(qualified_at, now()) END
         WHERE tenant_id = ${lead.tenantId} AND id = ${leadId}`);
    },
  },
  find: async (tx, scope) => {
    // The leads in a subquery fenced by OFFSET 0, so the join cannot go through a leads index bot by
    // bot: Postgres misjudges (tenant_id, bot_id) as 100 rows per bot and walked every page 100 times
    // (1.5 s at 1M leads, against 0.3 s for one hash join over a parallel scan).
    const misqualified = await tx.any(sql.type(leadRow)`
      SELECT ${LEAD_COLUMNS}
        FROM (SELECT id, tenant_id, bot_id, score, is_qualified, qualified_on_info FROM leads l WHERE ${inScope(scope, sql.identifier(['l', 'tenant_id']))} OFFSET 0) l
        JOIN bots b ON b.tenant_id = l.tenant_id AND b.id = l.bot_id
       WHERE l.is_qualified IS DISTINCT FROM (l.score >= b.qualification_threshold OR l.qualified_on_info)
       LIMIT ${MAX_FINDINGS_PER_CHECK + 1}`);
    // The top-N sort keeps only SCORE_SAMPLE_LEADS rows in memory, however many leads changed.
    const sample = await tx.any(sql.type(leadRow)`
      SELECT ${LEAD_COLUMNS}
        FROM (SELECT id, tenant_id, bot_id, score, is_qualified, qualified_on_info FROM leads l
               WHERE l.updated_at > now() - interval '24 hours' AND ${inScope(scope, sql.identifier(['l', 'tenant_id']))}
               ORDER BY l.updated_at DESC, l.id LIMIT ${SCORE_SAMPLE_LEADS}) l
        JOIN bots b ON b.tenant_id = l.tenant_id AND b.id = l.bot_id`);
    const recomputed = await recomputeLeadScores(tx, sample, scoring.maxChars);
    const leads = new Map([...misqualified, ...sample].map((lead) => [lead.leadId, lead]));
    return [...leads.values()]
      .flatMap((lead) => finding(lead, recomputed.get(lead.leadId) ?? null) ?? [])
      .sort((a, b) => (a.tenantId ?? '').localeCompare(b.tenantId ?? '') || a.key.localeCompare(b.key))
      .slice(0, MAX_FINDINGS_PER_CHECK + 1);
  },
});
