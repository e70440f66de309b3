import { ApplicationFailure } from '@temporalio/common';
import { sql } from 'slonik';
import { z } from 'zod';
import type { WithTenant } from '../core/db/with-tenant.ts';
import { hasActiveWebhook } from './owner-notification/has-active-webhook.ts';

const changeRow = z.object({ previous: z.number() });

export type ThresholdChange = {
  readonly previousThreshold: number;
  /** `lead.qualified` events the change caused (leads that crossed the new threshold), to notify: none when the tenant has no active webhook. */
  readonly qualifiedEventIds: readonly string[];
  /** Qualified leads of the bot once the change is committed. */
  readonly qualifiedLeads: number;
};

export const createQualificationActivities = (deps: { withTenant: WithTenant }) => ({
  /**
   * Sets a bot's threshold; its triggers re-qualify the bot's leads and write one owner event per
   * lead that crosses it, all in this transaction.
   */
  async setQualificationThreshold(input: { tenantId: string; botId: string; threshold: number; actor: string }): Promise<ThresholdChange> {
    return deps.withTenant(input.tenantId, async (tx) => {
      const lastSequence = await tx.oneFirst(sql.type(z.object({ last: z.coerce.number() }))`
        SELECT coalesce(max(sequence), 0) AS last FROM lead_events WHERE tenant_id = ${input.tenantId}`);
      const before = await tx.maybeOne(sql.type(changeRow)`
        SELECT qualification_threshold AS previous FROM bots
        WHERE tenant_id = ${input.tenantId} AND id = ${input.botId} FOR UPDATE`);
      if (!before) throw ApplicationFailure.nonRetryable(`bot ${input.botId} not found in tenant ${input.tenantId}`, 'BotNotFound');
      await tx.query(sql.unsafe`
        UPDATE bots SET qualification_threshold = ${input.threshold} WHERE tenant_id = ${input.tenantId} AND id = ${input.botId}`);
      // Events of other transactions that committed meanwhile may be listed too; their
      // notification workflow ids already exist, so starting them again is a no-op.
      const qualifiedEventIds = await tx.anyFirst(sql.type(z.object({ id: z.uuid() }))`
        SELECT e.id FROM lead_events e JOIN leads l ON l.tenant_id = e.tenant_id AND l.id = e.lead_id
        WHERE e.tenant_id = ${input.tenantId} AND l.bot_id = ${input.botId} AND e.kind = 'lead.qualified' AND e.sequence > ${lastSequence}
          AND ${hasActiveWebhook(input.tenantId)}
        ORDER BY e.sequence`);
      const qualifiedLeads = await tx.oneFirst(sql.type(z.object({ count: z.number() }))`
        SELECT count(*)::int AS count FROM leads WHERE tenant_id = ${input.tenantId} AND bot_id = ${input.botId} AND is_qualified`);
      await tx.query(sql.unsafe`
        INSERT INTO audit_logs (tenant_id, actor, action, details)
        VALUES (${input.tenantId}, ${input.actor}, 'bot.threshold_changed',
                ${sql.jsonb({ botId: input.botId, from: before.previous, to: input.threshold })})`);
      return {
        previousThreshold: before.previous,
        qualifiedEventIds: [...qualifiedEventIds],
        qualifiedLeads,
      };
    }, { actor: input.actor });
  },
});

export type QualificationThresholdActivities = ReturnType<typeof createQualificationActivities>;
