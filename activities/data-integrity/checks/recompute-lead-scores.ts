// Recomputes leads' scores from their inbound messages with their bot's active rules, the way the
// ingest scored them: the first `maxChars` characters of each message, each matching rule once.
// Only for a lead whose every inbound message came after its bot's rules last changed (by the rules'
// own times and the audit trail, which keeps deletes): an older message was scored with the rules of
// its day, which no longer exist, so a difference would be no defect.
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { evaluateMessage, scoredPart } from '../../../core/scoring/evaluate.ts';
import { createRuleCache } from '../../../core/scoring/rule-cache.ts';
import { readActiveRules } from '../../scoring/active-rules.ts';

export type LeadToRecompute = { readonly tenantId: string; readonly botId: string; readonly leadId: string };

// Compiling a bot's rules costs far more than a message: kept across runs, keyed by their content.
const compiledRules = createRuleCache(500);

const recomputable = z.object({ leadId: z.uuid() });
const inbound = z.object({ leadId: z.uuid(), body: z.string() });

const columns = (leads: readonly LeadToRecompute[]) => ({
  tenants: sql.array(leads.map((lead) => lead.tenantId), 'uuid'),
  bots: sql.array(leads.map((lead) => lead.botId), 'uuid'),
  ids: sql.array(leads.map((lead) => lead.leadId), 'uuid'),
});

const recomputableLeads = async (tx: CommonQueryMethods, leads: readonly LeadToRecompute[]) => {
  const { tenants, bots, ids } = columns(leads);
  return new Set(await tx.anyFirst(sql.type(recomputable)`
    WITH sample AS (SELECT * FROM unnest(${tenants}, ${bots}, ${ids}) AS s(tenant_id, bot_id, lead_id)),
    rules_changed AS (
      SELECT b.tenant_id, b.bot_id, greatest(
        (SELECT max(greatest(r.created_at, r.updated_at)) FROM scoring_rules r WHERE r.tenant_id = b.tenant_id AND r.bot_id = b.bot_id),
        (SELECT max(a.changed_at) FROM data_change_audit a
          WHERE a.tenant_id = b.tenant_id AND a.table_name = 'scoring_rules'
            AND coalesce(a.new_values, a.old_values) ->> 'bot_id' = b.bot_id::text)) AS changed_at
        FROM (SELECT DISTINCT tenant_id, bot_id FROM sample) b)
    SELECT s.lead_id AS "leadId" FROM sample s JOIN rules_changed c USING (tenant_id, bot_id)
     WHERE c.changed_at IS NULL OR NOT EXISTS (
       SELECT 1 FROM lead_messages m
        WHERE m.tenant_id = s.tenant_id AND m.lead_id = s.lead_id AND m.direction = 'inbound' AND m.created_at < c.changed_at)`));
};

/** The recomputed score of each given lead that can be recomputed (the others are left out). */
export const recomputeLeadScores = async (
  tx: CommonQueryMethods, leads: readonly LeadToRecompute[], maxChars: number,
): Promise<Map<string, number>> => {
  const scored = leads.length === 0 ? new Set<string>() : await recomputableLeads(tx, leads);
  const targets = leads.filter((lead) => scored.has(lead.leadId));
  const scores = new Map(targets.map((lead) => [lead.leadId, 0]));
  if (targets.length === 0) return scores;
  const rulesByBot = new Map<string, Awaited<ReturnType<typeof readActiveRules>>>();
  for (const { tenantId, botId } of targets) {
    if (!rulesByBot.has(botId)) rulesByBot.set(botId, await readActiveRules(tx, tenantId, botId));
  }
  const botOf = new Map(targets.map((lead) => [lead.leadId, lead.botId]));
  const { tenants, ids } = columns(targets);
  // Cut in SQL to bound what is read (left() counts code points, never fewer than scoredPart's units).
  const messages = await tx.any(sql.type(inbound)`
    SELECT m.lead_id AS "leadId", left(m.body, ${maxChars}) AS body
      FROM unnest(${tenants}, ${ids}) AS s(tenant_id, lead_id)
      JOIN lead_messages m ON m.tenant_id = s.tenant_id AND m.lead_id = s.lead_id
     WHERE m.direction = 'inbound'`);
  for (const { leadId, body } of messages) {
    const rules = compiledRules(rulesByBot.get(botOf.get(leadId)!)!);
    scores.set(leadId, scores.get(leadId)! + evaluateMessage(rules, scoredPart(body, maxChars)).scoreDelta);
  }
  return scores;
};
