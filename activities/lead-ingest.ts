import { sql } from 'slonik';
import { z } from 'zod';
import type { WithTenant } from '../core/db/with-tenant.ts';
import { compileRules, evaluateMessage } from '../core/scoring/evaluate.ts';
import { scoringRuleSchema } from '../core/scoring/rules.ts';
import type { InboundMessage, IngestResult } from '../core/temporal/lead-conversation.ts';

const leadRow = z.object({ id: z.uuid(), score: z.number(), is_qualified: z.boolean() });
const scoredRow = z.object({ score: z.number(), is_qualified: z.boolean() });
const ruleRow = scoringRuleSchema.pick({ kind: true, pattern: true, weight: true, tag: true, active: true });

export const createLeadActivities = (deps: { withTenant: WithTenant }) => ({
  /**
   * One transaction per inbound message: upsert the lead, store the message idempotently on its
   * WhatsApp id (a second delivery changes nothing), score it, and let the triggers qualify and audit.
   */
  async ingestInbound(message: InboundMessage): Promise<IngestResult> {
    return deps.withTenant(message.tenantId, async (tx) => {
      const lead = await tx.one(sql.type(leadRow)`
        INSERT INTO leads (tenant_id, bot_id, wa_id, phone_e164, lid, name, last_message_at)
        VALUES (${message.tenantId}, ${message.botId}, ${message.waId}, ${message.phoneE164 ?? null}, ${message.lid ?? null},
                ${message.pushName ?? null}, ${message.receivedAt})
        ON CONFLICT ON CONSTRAINT leads_wa_id_unique DO UPDATE
          SET phone_e164 = coalesce(leads.phone_e164, excluded.phone_e164),
              lid = coalesce(leads.lid, excluded.lid),
              name = coalesce(leads.name, excluded.name)
        RETURNING id, score, is_qualified`);
      const stored = await tx.maybeOne(sql.unsafe`
        INSERT INTO lead_messages (tenant_id, bot_id, lead_id, direction, wa_message_id, body, created_at)
        VALUES (${message.tenantId}, ${message.botId}, ${lead.id}, 'inbound', ${message.waMessageId}, ${message.text}, ${message.receivedAt})
        ON CONFLICT ON CONSTRAINT lead_messages_wa_message_unique DO NOTHING
        RETURNING id`);
      if (!stored) {
        return { leadId: lead.id, duplicate: true, score: lead.score, isQualified: lead.is_qualified, becameQualified: false, matchedTags: [] };
      }
      const rules = await tx.any(sql.type(ruleRow)`
        SELECT kind, pattern, weight, tag, active FROM scoring_rules
        WHERE tenant_id = ${message.tenantId} AND bot_id = ${message.botId} AND active ORDER BY created_at, id`);
      const evaluation = evaluateMessage(compileRules(rules), message.text);
      const scored = await tx.one(sql.type(scoredRow)`
        UPDATE leads SET score = score + ${evaluation.scoreDelta},
                         tags = ARRAY(SELECT DISTINCT t FROM unnest(tags || ${sql.array([...evaluation.tags], 'text')}) AS t ORDER BY t),
                         last_message_at = greatest(last_message_at, ${message.receivedAt}::timestamptz)
        WHERE tenant_id = ${message.tenantId} AND id = ${lead.id}
        RETURNING score, is_qualified`);
      return {
        leadId: lead.id,
        duplicate: false,
        score: scored.score,
        isQualified: scored.is_qualified,
        becameQualified: scored.is_qualified && !lead.is_qualified,
        matchedTags: evaluation.tags,
      };
    }, { actor: 'lead-conversation' });
  },

  /** Records a reply the bot pod sent; idempotent on the WhatsApp message id it returned. */
  async recordOutbound(input: { tenantId: string; botId: string; leadId: string; waMessageId: string; text: string }): Promise<void> {
    await deps.withTenant(input.tenantId, (tx) => tx.query(sql.unsafe`
      INSERT INTO lead_messages (tenant_id, bot_id, lead_id, direction, wa_message_id, body)
      VALUES (${input.tenantId}, ${input.botId}, ${input.leadId}, 'outbound', ${input.waMessageId}, ${input.text})
      ON CONFLICT ON CONSTRAINT lead_messages_wa_message_unique DO NOTHING`), { actor: 'lead-conversation' });
  },
});
