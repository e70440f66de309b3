// Which lead an inbound message belongs to. WhatsApp may address one person by phone number or by
// an anonymous lid; we store both and link them only on Baileys' own mapping, never on a guess
// (matching names, timing or message text is how peers attached messages to the wrong customer).
import { sql } from 'slonik';
import { z } from 'zod';
import type { TenantTransaction } from '../core/db/with-tenant.ts';
import type { InboundMessage } from '../core/temporal/lead-conversation.ts';

const leadRow = z.object({ id: z.uuid(), score: z.number(), is_qualified: z.boolean(), created: z.boolean() });
export type LeadRow = z.infer<typeof leadRow>;

/** A lead known under this message's key, or under the lid it carries (only when Baileys gave the phone too). */
const findExisting = async (tx: TenantTransaction, message: InboundMessage) => {
  const byKey = await tx.maybeOne(sql.type(leadRow)`
    SELECT id, score, is_qualified, false AS created FROM leads
    WHERE tenant_id = ${message.tenantId} AND bot_id = ${message.botId} AND wa_id = ${message.waId}`);
  if (byKey || !message.lid) return byKey;
  // The same lid seen earlier, before its phone was known: the mapping says it is this person.
  return tx.maybeOne(sql.type(leadRow)`
    SELECT id, score, is_qualified, false AS created FROM leads
    WHERE tenant_id = ${message.tenantId} AND bot_id = ${message.botId} AND lid = ${message.lid}
      AND (phone_e164 IS NULL OR phone_e164 IS NOT DISTINCT FROM ${message.phoneE164 ?? null})`);
};

/**
 * Finds or creates the message's lead and records what the message says about its identity: a
 * phone or lid the lead did not have yet is added, one it already has is never overwritten, and a
 * lid another lead holds stays with that lead (two leads are never merged automatically).
 */
export const resolveLead = async (tx: TenantTransaction, message: InboundMessage): Promise<LeadRow> => {
  const existing = await findExisting(tx, message);
  if (existing) {
    await tx.query(sql.unsafe`
      UPDATE leads SET
        phone_e164 = coalesce(phone_e164, ${message.phoneE164 ?? null}),
        lid = coalesce(lid, (SELECT ${message.lid ?? null}::text WHERE NOT EXISTS (
          SELECT 1 FROM leads other WHERE other.tenant_id = ${message.tenantId} AND other.bot_id = ${message.botId}
            AND other.lid = ${message.lid ?? null} AND other.id <> ${existing.id}))),
        name = coalesce(name, ${message.pushName ?? null})
      WHERE tenant_id = ${message.tenantId} AND id = ${existing.id}
        AND (phone_e164 IS NULL OR lid IS NULL OR name IS NULL)`);
    return existing;
  }
  return tx.one(sql.type(leadRow)`
    INSERT INTO leads (tenant_id, bot_id, wa_id, phone_e164, lid, name, last_message_at)
    VALUES (${message.tenantId}, ${message.botId}, ${message.waId}, ${message.phoneE164 ?? null},
            (SELECT ${message.lid ?? null}::text WHERE NOT EXISTS (
              SELECT 1 FROM leads other WHERE other.tenant_id = ${message.tenantId} AND other.bot_id = ${message.botId}
                AND other.lid = ${message.lid ?? null})),
            ${message.pushName ?? null}, ${message.receivedAt})
    ON CONFLICT ON CONSTRAINT leads_wa_id_unique DO UPDATE SET last_message_at = leads.last_message_at
    RETURNING id, score, is_qualified, (xmax = 0) AS created`);
};
