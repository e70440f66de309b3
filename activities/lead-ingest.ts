import { sql } from 'slonik';
import { z } from 'zod';
import type { TenantTransaction, WithTenant } from '../core/db/with-tenant.ts';
import { extractLeadInfo, missingLeadFields, type LeadInfo } from '../core/lead-info.ts';
import { compileRules, evaluateMessage } from '../core/scoring/evaluate.ts';
import { scoringRuleSchema } from '../core/scoring/rules.ts';
import type { InboundMessage, IngestResult } from '../core/temporal/lead-conversation.ts';

const leadRow = z.object({ id: z.uuid(), score: z.number(), is_qualified: z.boolean() });
const scoredRow = z.object({ score: z.number(), is_qualified: z.boolean() });
const detailsRow = z.object({ name: z.string().nullable(), email: z.string().nullable(), company: z.string().nullable() });
// The database's own e-mail rule (users_email_format / leads_email_format): a value it would refuse
// is dropped here, so a strange address in a message can never fail (and endlessly retry) the ingest.
const STORABLE_EMAIL = /^[a-z0-9._%+-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}$/;
const storableLeadInfo = (info: LeadInfo): LeadInfo => ({
  ...info,
  email: info.email && info.email.length <= 254 && STORABLE_EMAIL.test(info.email) ? info.email : undefined,
});
const stageMove = z.object({ from_stage_id: z.uuid().nullable(), to_stage_id: z.uuid() });
const ruleRow = scoringRuleSchema.pick({ kind: true, pattern: true, weight: true, tag: true, active: true });

/**
 * A newly qualified lead: one owner event (carried by the API's SSE stream) and a move to the
 * qualified stage of its pipeline (the tenant's default pipeline when it has none yet), with history.
 */
const recordQualification = async (tx: TenantTransaction, message: InboundMessage, leadId: string, score: number) => {
  await tx.query(sql.unsafe`
    INSERT INTO lead_events (tenant_id, lead_id, kind, payload)
    VALUES (${message.tenantId}, ${leadId}, 'lead.qualified', ${sql.jsonb({ botId: message.botId, waId: message.waId, score })})`);
  const moved = await tx.maybeOne(sql.type(stageMove)`
    WITH target AS (
      SELECT s.pipeline_id, s.id AS stage_id
      FROM leads l
      JOIN pipelines p ON p.tenant_id = l.tenant_id AND p.id = coalesce(l.pipeline_id, (
        SELECT d.id FROM pipelines d WHERE d.tenant_id = l.tenant_id AND d.is_default))
      JOIN pipeline_stages s ON s.tenant_id = p.tenant_id AND s.pipeline_id = p.id AND s.is_qualified_stage
      WHERE l.tenant_id = ${message.tenantId} AND l.id = ${leadId}
      ORDER BY s.position LIMIT 1
    ), previous AS (
      SELECT stage_id FROM leads WHERE tenant_id = ${message.tenantId} AND id = ${leadId}
    )
    UPDATE leads SET pipeline_id = target.pipeline_id, stage_id = target.stage_id
    FROM target, previous
    WHERE leads.tenant_id = ${message.tenantId} AND leads.id = ${leadId} AND leads.stage_id IS DISTINCT FROM target.stage_id
    RETURNING previous.stage_id AS from_stage_id, target.stage_id AS to_stage_id`);
  if (moved) {
    await tx.query(sql.unsafe`
      INSERT INTO lead_stage_events (tenant_id, lead_id, from_stage_id, to_stage_id, reason)
      VALUES (${message.tenantId}, ${leadId}, ${moved.from_stage_id}, ${moved.to_stage_id}, 'qualified')`);
  }
};

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
        return { leadId: lead.id, duplicate: true, score: lead.score, isQualified: lead.is_qualified, becameQualified: false, matchedTags: [], missingFields: [] };
      }
      const rules = await tx.any(sql.type(ruleRow)`
        SELECT kind, pattern, weight, tag, active FROM scoring_rules
        WHERE tenant_id = ${message.tenantId} AND bot_id = ${message.botId} AND active ORDER BY created_at, id`);
      const evaluation = evaluateMessage(compileRules(rules), message.text);
      const info = storableLeadInfo(extractLeadInfo(message.text));
      const scored = await tx.one(sql.type(scoredRow)`
        UPDATE leads SET score = score + ${evaluation.scoreDelta},
                         tags = ARRAY(SELECT DISTINCT t FROM unnest(tags || ${sql.array([...evaluation.tags], 'text')}) AS t ORDER BY t),
                         last_message_at = greatest(last_message_at, ${message.receivedAt}::timestamptz)
        WHERE tenant_id = ${message.tenantId} AND id = ${lead.id}
        RETURNING score, is_qualified`);
      const details = await tx.one(sql.type(detailsRow)`
        UPDATE leads SET name = coalesce(name, ${info.name ?? null}),
                         email = coalesce(email, ${info.email ?? null}),
                         company = coalesce(company, ${info.company ?? null})
        WHERE tenant_id = ${message.tenantId} AND id = ${lead.id}
        RETURNING name, email, company`);
      const becameQualified = scored.is_qualified && !lead.is_qualified;
      if (becameQualified) await recordQualification(tx, message, lead.id, scored.score);
      return {
        leadId: lead.id,
        duplicate: false,
        score: scored.score,
        isQualified: scored.is_qualified,
        becameQualified,
        matchedTags: evaluation.tags,
        missingFields: missingLeadFields(details),
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
