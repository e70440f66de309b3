// A firing's WhatsApp follow-up, on the database side: resolve the segment into the firing's rows of
// schedule_follow_ups (once per firing), hand out the pending ones, record each send or failure with
// its outbound message, and audit the counts. The sends themselves run on the tenant's bot pod.
import { ApplicationFailure } from '@temporalio/common';
import { sql } from 'slonik';
import { z } from 'zod';
import type { TenantTransaction, WithTenant } from '../../core/db/with-tenant.ts';
import { scheduleActionSchema, whatsappFollowUpOf } from '../../core/schedules/action.ts';
import { renderFollowUpText } from '../../core/schedules/follow-up-text.ts';
import { SEGMENT_MAX_LEADS, SEGMENT_ORDER, WHATSAPP_OPT_OUT_TAG, segmentLeadsFrom } from '../../core/schedules/segment.ts';
import type { FollowUpCounts, FollowUpLead, FollowUpPlan, FollowUpResolution, ScheduledRunInput } from '../../core/temporal/schedules.ts';

export type FollowUpSettings = { readonly ratePerMinute: number; readonly maxRatePerMinute: number; readonly sendTimeoutSeconds: number };

type FiringRef = ScheduledRunInput & { readonly firingId: string };

const actionRow = z.object({ action: z.unknown(), botStatus: z.string() });
const pendingRow = z.object({
  leadId: z.uuid(), waId: z.string(), phoneE164: z.string().nullable(), lid: z.string().nullable(), name: z.string().nullable(),
});
const countRow = z.object({ status: z.string(), n: z.number().int() });
const ACTOR = 'schedule-follow-up';

/** The JID the lead is reached at: its phone number's, else its lid's (the segment admits no lead with neither). */
const jidOf = (lead: z.infer<typeof pendingRow>) => lead.phoneE164 ? `${lead.phoneE164.slice(1)}@s.whatsapp.net` : `${lead.lid}@lid`;

/** Skips the firing's pending rows: all of them, or the one of `leadId`. */
const skipPending = (tx: TenantTransaction, ref: FiringRef, detail: string, leadId: string | null) => tx.query(sql.unsafe`
  UPDATE schedule_follow_ups SET status = 'skipped', detail = ${detail}
   WHERE tenant_id = ${ref.tenantId} AND firing_id = ${ref.firingId} AND status = 'pending'
     ${leadId === null ? sql.fragment`` : sql.fragment`AND lead_id = ${leadId}`}`);

const claimRow = z.object({ botStatus: z.string().nullable(), pending: z.boolean(), optedOut: z.boolean() });

export const createFollowUpActivities = (deps: { withTenant: WithTenant; followUp: FollowUpSettings }) => ({
  /**
   * Writes the firing's rows from the schedule's segment, once: a firing that has rows keeps them
   * (a retry or a re-run of the firing resolves nothing new). A paused or archived bot sends nothing.
   */
  async resolveFollowUp(ref: FiringRef): Promise<FollowUpResolution> {
    return deps.withTenant(ref.tenantId, async (tx) => {
      const row = await tx.maybeOne(sql.type(actionRow)`
        SELECT s.action, b.status AS "botStatus" FROM schedules s JOIN bots b ON b.tenant_id = s.tenant_id AND b.id = s.bot_id
         WHERE s.tenant_id = ${ref.tenantId} AND s.id = ${ref.scheduleId}`);
      if (row === null) return { plan: null, skippedReason: 'the schedule was deleted' };
      if (row.botStatus !== 'active') return { plan: null, skippedReason: `the bot is ${row.botStatus}` };
      const parsed = scheduleActionSchema.safeParse(row.action);
      const followUp = parsed.success ? whatsappFollowUpOf(parsed.data) : null;
      if (followUp === null) {
        throw ApplicationFailure.nonRetryable(`schedule ${ref.scheduleId} has no WhatsApp follow-up action: ${parsed.error?.message ?? 'another action type'}`, 'InvalidScheduleAction');
      }
      const from = segmentLeadsFrom({ tenantId: ref.tenantId, botId: ref.botId, segment: followUp.segment, channel: 'whatsapp' });
      await tx.query(sql.unsafe`
        INSERT INTO schedule_follow_ups (tenant_id, schedule_id, firing_id, bot_id, lead_id)
        SELECT ${ref.tenantId}, ${ref.scheduleId}, ${ref.firingId}, ${ref.botId}, l.id ${from}
           AND NOT EXISTS (SELECT 1 FROM schedule_follow_ups done WHERE done.tenant_id = ${ref.tenantId} AND done.firing_id = ${ref.firingId})
        ${SEGMENT_ORDER} LIMIT ${SEGMENT_MAX_LEADS}
        ON CONFLICT ON CONSTRAINT schedule_follow_ups_once DO NOTHING`);
      const matched = await tx.oneFirst(sql.type(z.object({ n: z.number().int() }))`
        SELECT count(*)::int AS n FROM schedule_follow_ups WHERE tenant_id = ${ref.tenantId} AND firing_id = ${ref.firingId}`);
      const truncated = matched >= SEGMENT_MAX_LEADS && await tx.exists(sql.unsafe`
        SELECT 1 ${from} AND NOT EXISTS (
          SELECT 1 FROM schedule_follow_ups f WHERE f.tenant_id = l.tenant_id AND f.firing_id = ${ref.firingId} AND f.lead_id = l.id)`);
      const ratePerMinute = Math.min(followUp.ratePerMinute ?? deps.followUp.ratePerMinute, deps.followUp.maxRatePerMinute);
      const plan: FollowUpPlan = {
        message: followUp.message, intervalMs: Math.ceil(60_000 / ratePerMinute), sendTimeoutSeconds: deps.followUp.sendTimeoutSeconds, matched, truncated,
      };
      return { plan };
    }, { actor: ACTOR });
  },

  /** The firing's next pending leads, with their text (each is claimed just before its send). */
  async nextFollowUps(input: FiringRef & { readonly message: string; readonly limit: number }): Promise<FollowUpLead[]> {
    return deps.withTenant(input.tenantId, async (tx) => {
      const leads = await tx.any(sql.type(pendingRow)`
        SELECT l.id AS "leadId", l.wa_id AS "waId", l.phone_e164 AS "phoneE164", l.lid, l.name
          FROM schedule_follow_ups f JOIN leads l ON l.tenant_id = f.tenant_id AND l.id = f.lead_id
         WHERE f.tenant_id = ${input.tenantId} AND f.firing_id = ${input.firingId} AND f.status = 'pending'
         ORDER BY f.id LIMIT ${input.limit}`);
      return leads.map((lead) => ({ leadId: lead.leadId, waId: lead.waId, toJid: jidOf(lead), text: renderFollowUpText(input.message, lead) }));
    }, { actor: ACTOR });
  },

  /**
   * Whether to send to this lead now, checked just before its send: its row is still pending, it has
   * not opted out since the firing began (else its row is skipped), and the bot is still active
   * (else every pending row of the firing is skipped).
   */
  async claimFollowUp(input: FiringRef & { readonly leadId: string }): Promise<boolean> {
    return deps.withTenant(input.tenantId, async (tx) => {
      const state = await tx.one(sql.type(claimRow)`
        SELECT (SELECT status FROM bots WHERE tenant_id = ${input.tenantId} AND id = ${input.botId}) AS "botStatus",
               EXISTS (SELECT 1 FROM schedule_follow_ups WHERE tenant_id = ${input.tenantId} AND firing_id = ${input.firingId}
                          AND lead_id = ${input.leadId} AND status = 'pending') AS pending,
               EXISTS (SELECT 1 FROM leads WHERE tenant_id = ${input.tenantId} AND id = ${input.leadId} AND ${WHATSAPP_OPT_OUT_TAG} = ANY (tags)) AS "optedOut"`);
      if (state.botStatus !== 'active') {
        await skipPending(tx, input, `the bot is ${state.botStatus ?? 'deleted'}`, null);
        return false;
      }
      if (state.pending && state.optedOut) await skipPending(tx, input, 'the lead opted out', input.leadId);
      return state.pending && !state.optedOut;
    }, { actor: ACTOR });
  },

  /** The send landed: the row is sent, and the message is stored as the bot's outbound message to the lead. */
  async recordFollowUpSent(input: FiringRef & { readonly leadId: string; readonly waMessageId: string; readonly text: string }): Promise<void> {
    await deps.withTenant(input.tenantId, async (tx) => {
      await tx.query(sql.unsafe`
        UPDATE schedule_follow_ups SET status = 'sent', wa_message_id = ${input.waMessageId}, detail = NULL
         WHERE tenant_id = ${input.tenantId} AND firing_id = ${input.firingId} AND lead_id = ${input.leadId} AND status = 'pending'`);
      await tx.query(sql.unsafe`
        INSERT INTO lead_messages (tenant_id, bot_id, lead_id, direction, wa_message_id, body)
        SELECT ${input.tenantId}, ${input.botId}, ${input.leadId}, 'outbound', ${input.waMessageId}, ${input.text}
         -- A lead erased since its send takes no message (and no retry would bring it back).
         WHERE EXISTS (SELECT 1 FROM leads WHERE tenant_id = ${input.tenantId} AND bot_id = ${input.botId} AND id = ${input.leadId})
        ON CONFLICT ON CONSTRAINT lead_messages_wa_message_unique DO NOTHING`);
    }, { actor: ACTOR });
  },

  /** The bot pod refused this lead's send after its retries: the lead is failed, the firing goes on. */
  async recordFollowUpFailed(input: FiringRef & { readonly leadId: string; readonly reason: string }): Promise<void> {
    await deps.withTenant(input.tenantId, (tx) => tx.query(sql.unsafe`
      UPDATE schedule_follow_ups SET status = 'failed', detail = ${input.reason.slice(0, 1000)}
       WHERE tenant_id = ${input.tenantId} AND firing_id = ${input.firingId} AND lead_id = ${input.leadId} AND status = 'pending'`), { actor: ACTOR });
  },

  /** The firing's counts, audited as `schedule.follow_up` (with why it stopped, when it did). */
  async finishFollowUp(input: FiringRef & {
    readonly sentNow: number; readonly truncated: boolean; readonly stoppedBecause: string | null;
  }): Promise<FollowUpCounts> {
    return deps.withTenant(input.tenantId, async (tx) => {
      const rows = await tx.any(sql.type(countRow)`
        SELECT status, count(*)::int AS n FROM schedule_follow_ups WHERE tenant_id = ${input.tenantId} AND firing_id = ${input.firingId} GROUP BY status`);
      const of = (status: string) => rows.find((row) => row.status === status)?.n ?? 0;
      const counts: FollowUpCounts = {
        matched: rows.reduce((sum, row) => sum + row.n, 0), sent: of('sent'), skipped: of('skipped'), failed: of('failed'), pending: of('pending'),
        truncated: input.truncated,
      };
      await tx.query(sql.unsafe`
        INSERT INTO audit_logs (tenant_id, actor, action, details)
        VALUES (${input.tenantId}, ${`schedule:${input.scheduleId}`}, 'schedule.follow_up', ${sql.jsonb({
          scheduleId: input.scheduleId, botId: input.botId, workflowId: input.firingId, ...counts, sentNow: input.sentNow, stoppedBecause: input.stoppedBecause,
        })})`);
      return counts;
    }, { actor: ACTOR });
  },
});

export type FollowUpActivities = ReturnType<typeof createFollowUpActivities>;
