import { sql } from 'slonik';
import { z } from 'zod';
import { readConversationSettings } from '../../core/lead-conversation/conversation-settings.ts';
import type { TenantTransaction, WithTenant } from '../../core/db/with-tenant.ts';
import { extractLeadInfo, missingLeadFields, pickLeadFields, type LeadInfo } from '../../core/lead-conversation/lead-info.ts';
import { carriesNoWords, DEFAULT_NON_TEXT_REPLY, type MessageKind } from '../../core/lead-conversation/message-kinds.ts';
import { composeTemplateReply, type CatalogMatch } from '../../core/lead-conversation/replies.ts';
import type { InboundMessage, IngestResult, OutboundRecord } from '../../core/temporal/lead-conversation.ts';
import { enrolOnQualification } from '../email-sequences/enrol-on-qualification.ts';
import { hasActiveWebhook } from '../owner-notification/has-active-webhook.ts';
import { resolveLead } from './identity.ts';
import { claimImageSends, imageSendsOf } from './image-sends.ts';
import { readActiveRules } from '../scoring/active-rules.ts';
import type { Score, ScoringPool } from '../scoring/pool.ts';

const leadStateRow = z.object({
  score: z.number(), is_qualified: z.boolean(), name: z.string().nullable(), email: z.string().nullable(), company: z.string().nullable(),
});
const catalogRow = z.object({ name: z.string(), price: z.string(), currency: z.string() });
const eventRow = z.object({ id: z.uuid() });
const botRow = z.object({
  settings: z.unknown(), qualify_when_info_complete: z.boolean(), non_text_reply: z.string().nullable(), has_keyword_images: z.boolean(),
});
const qualifiedRow = z.object({ is_qualified: z.boolean() });
const NOTHING_SCORED: Score = { scoreDelta: 0, tags: [], timedOut: false };

// The database's own e-mail rule (users_email_format / leads_email_format): a value it would refuse
// is dropped here, so a strange address in a message can never fail (and endlessly retry) the ingest.
const STORABLE_EMAIL = /^[a-z0-9._%+-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}$/;
const storableLeadInfo = (info: LeadInfo): LeadInfo => ({
  ...info,
  email: info.email && info.email.length <= 254 && STORABLE_EMAIL.test(info.email) ? info.email : undefined,
});

/** Active products of the bot whose name or SKU the message mentions (at most three, cheapest first). */
const matchCatalog = (tx: TenantTransaction, message: InboundMessage): Promise<readonly CatalogMatch[]> => tx.any(sql.type(catalogRow)`
  SELECT name, price::text AS price, currency FROM products
  WHERE tenant_id = ${message.tenantId} AND bot_id = ${message.botId} AND active
    AND (strpos(lower(${message.text}), lower(name)) > 0 OR strpos(lower(${message.text}), lower(sku)) > 0)
  ORDER BY price, name LIMIT 3`);

/** The newest owner event the leads_on_qualified trigger wrote for this lead, when a webhook of the tenant is there to deliver it to. */
const qualifiedEventToNotify = (tx: TenantTransaction, tenantId: string, leadId: string) => tx.maybeOneFirst(sql.type(eventRow)`
  SELECT id FROM lead_events WHERE tenant_id = ${tenantId} AND lead_id = ${leadId} AND kind = 'lead.qualified' AND ${hasActiveWebhook(tenantId)}
  ORDER BY sequence DESC LIMIT 1`);

/**
 * Records a reply the bot pod sent; idempotent on the WhatsApp message id it returned. It goes to
 * the lead that now holds the message it answers (`inReplyTo`): a merge may have moved that
 * message, and deleted `leadId`, since the ingest. Locking the answered message waits for a
 * merge in flight; a merge that starts after it sees this reply and moves it too.
 */
const insertOutbound = (tx: TenantTransaction, input: OutboundRecord) => tx.query(sql.unsafe`
  WITH answered AS (
    SELECT lead_id FROM lead_messages
     WHERE tenant_id = ${input.tenantId} AND bot_id = ${input.botId} AND wa_message_id = ${input.inReplyTo} FOR SHARE)
  INSERT INTO lead_messages (tenant_id, bot_id, lead_id, direction, wa_message_id, body, kind)
  SELECT ${input.tenantId}, ${input.botId}, coalesce((SELECT lead_id FROM answered), ${input.leadId}::uuid), 'outbound', ${input.waMessageId}, ${input.text},
         ${input.kind ?? 'text'}
  ON CONFLICT ON CONSTRAINT lead_messages_wa_message_unique DO NOTHING`);

const ACTOR = { actor: 'lead-conversation' };

export const createLeadActivities = (deps: { withTenant: WithTenant; chatComposerConfigured: boolean; scoring: ScoringPool }) => {
  // Scored before the transaction opens (a costly message never holds a connection), off this thread.
  // A message without words scores nothing. The previous message's reply, when given, is recorded in
  // the transaction that reads the rules: one transaction per message less.
  const score = async (message: InboundMessage, previousReply?: OutboundRecord) => {
    const words = !carriesNoWords(message);
    if (!words && !previousReply) return NOTHING_SCORED;
    const rules = await deps.withTenant(message.tenantId, async (tx) => {
      if (previousReply) await insertOutbound(tx, previousReply);
      return words ? readActiveRules(tx, message.tenantId, message.botId) : [];
    }, ACTOR);
    return words ? deps.scoring.score(message.tenantId, rules, message.text) : NOTHING_SCORED;
  };

  /**
   * One transaction per inbound message: find or create the lead, store the message idempotently
   * on its WhatsApp id (a second delivery changes nothing), score it, keep the details it states,
   * and compose the template reply. The triggers qualify, notify and audit in the same transaction.
   */
  const ingest = async (message: InboundMessage, previousReply?: OutboundRecord): Promise<IngestResult> => {
    const evaluation = await score(message, previousReply);
    const words = !carriesNoWords(message);
    return deps.withTenant(message.tenantId, async (tx) => {
      const lead = await resolveLead(tx, message);
      const kind: MessageKind = message.kind ?? 'text';
      const stored = await tx.maybeOne(sql.unsafe`
        INSERT INTO lead_messages (tenant_id, bot_id, lead_id, direction, wa_message_id, body, kind, created_at)
        VALUES (${message.tenantId}, ${message.botId}, ${lead.id}, 'inbound', ${message.waMessageId}, ${message.text}, ${kind}, ${message.receivedAt})
        ON CONFLICT ON CONSTRAINT lead_messages_wa_message_unique DO NOTHING
        RETURNING id`);
      const duplicate = stored === null;
      const bot = await tx.one(sql.type(botRow)`
        SELECT t.settings, b.qualify_when_info_complete, b.non_text_reply,
               EXISTS (SELECT 1 FROM bot_images i WHERE i.tenant_id = b.tenant_id AND i.bot_id = b.id AND cardinality(i.keywords) > 0) AS has_keyword_images
          FROM bots b JOIN tenants t ON t.id = b.tenant_id
         WHERE b.tenant_id = ${message.tenantId} AND b.id = ${message.botId}`);
      const conversation = readConversationSettings(bot.settings);
      const info = words ? storableLeadInfo(pickLeadFields(extractLeadInfo(message.text), conversation.leadFields)) : {};
      // A duplicate changes nothing: the lead is read, not updated. The score and the details are one
      // update: each update of a lead runs its triggers and writes an audit row.
      const state = duplicate
        ? await tx.one(sql.type(leadStateRow)`
          SELECT score, is_qualified, name, email, company FROM leads WHERE tenant_id = ${message.tenantId} AND id = ${lead.id}`)
        : await tx.one(sql.type(leadStateRow)`
          UPDATE leads SET score = score + ${evaluation.scoreDelta},
                           tags = ARRAY(SELECT DISTINCT t FROM unnest(tags || ${sql.array([...evaluation.tags], 'text')}) AS t ORDER BY t),
                           last_message_at = greatest(last_message_at, ${message.receivedAt}::timestamptz),
                           name = coalesce(name, ${info.name ?? null}),
                           email = coalesce(email, ${info.email ?? null}),
                           company = coalesce(company, ${info.company ?? null})
          WHERE tenant_id = ${message.tenantId} AND id = ${lead.id}
          RETURNING score, is_qualified, name, email, company`);
      const missingFields = missingLeadFields(state, conversation.leadFields);
      // Info complete -> qualify (audit 2.1): the mark goes through the one qualification trigger,
      // which writes the lead.qualified event and moves the stage. A bot that collects nothing never qualifies this way.
      const infoComplete = bot.qualify_when_info_complete && conversation.leadFields.length > 0 && missingFields.length === 0;
      // Marked even when the score qualifies already: a raised threshold later leaves the lead qualified.
      const marked = !duplicate && infoComplete ? await tx.maybeOneFirst(sql.type(qualifiedRow)`
        UPDATE leads SET qualified_on_info = true WHERE tenant_id = ${message.tenantId} AND id = ${lead.id} AND NOT qualified_on_info
        RETURNING is_qualified`) : null;
      const isQualified = marked ?? state.is_qualified;
      // A lead created already qualified (threshold 0) was notified by the insert trigger.
      const becameQualified = !duplicate && isQualified && (!lead.is_qualified || lead.created);
      const context = {
        becameQualified,
        matchedTags: evaluation.tags,
        missingFields,
        catalogMatches: words ? await matchCatalog(tx, message) : [],
      };
      // A new message's sends are only those it claims now; a duplicate's were claimed by its first delivery.
      const claimed = !duplicate && words && bot.has_keyword_images ? await claimImageSends(tx, message, lead.id) : false;
      // A duplicate may be the retry of an attempt that committed but never reported (worker
      // killed): it returns the lead's qualification event and a reply again, and the workflow's
      // idempotent notification start and send make that safe when the first attempt got through.
      const reportsQualification = becameQualified || (duplicate && isQualified);
      return {
        leadId: lead.id,
        duplicate,
        score: state.score,
        isQualified,
        qualifiedEventId: reportsQualification ? await qualifiedEventToNotify(tx, message.tenantId, lead.id) : null,
        emailEnrollmentId: reportsQualification
          ? await enrolOnQualification(tx, { tenantId: message.tenantId, botId: message.botId, leadId: lead.id, email: state.email, becameQualified })
          : null,
        ...context,
        // A message without words is answered with the bot's non-text reply, never ignored.
        templateReply: words ? composeTemplateReply(context, conversation.replies) : bot.non_text_reply ?? DEFAULT_NON_TEXT_REPLY,
        useChatComposer: deps.chatComposerConfigured && !duplicate && words,
        scoringTimedOut: evaluation.timedOut,
        imageSends: claimed || (duplicate && words) ? await imageSendsOf(tx, message) : [],
      };
    }, ACTOR);
  };

  return {
    /** Short and idempotent, so the workflow runs it as a local activity. */
    ingestInbound: (message: InboundMessage): Promise<IngestResult> => ingest(message),

    async recordOutbound(input: OutboundRecord): Promise<void> {
      await deps.withTenant(input.tenantId, (tx) => insertOutbound(tx, input), ACTOR);
    },

    /**
     * The previous message's reply, recorded, and then this message ingested: one local activity
     * where two would each cost the workflow an activation and a history event. Both are idempotent,
     * so a retry, or the two run again one by one, changes nothing that is stored.
     */
    recordThenIngest: (input: { reply: OutboundRecord; message: InboundMessage }): Promise<IngestResult> => ingest(input.message, input.reply),
  };
};

export type LeadIngestActivities = ReturnType<typeof createLeadActivities>;
