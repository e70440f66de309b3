// Which lead an inbound message belongs to. WhatsApp may address one person by phone number or by
// an anonymous lid; we store both and link them only on WhatsApp's or Baileys' own pairing of the
// two, never on a guess (matching names, timing or message text is how peers attached messages
// to the wrong customer).
import { sql } from 'slonik';
import { z } from 'zod';
import type { TenantTransaction } from '../../core/db/with-tenant.ts';
import type { InboundMessage } from '../../core/temporal/lead-conversation.ts';

const leadRow = z.object({ id: z.uuid(), score: z.number(), is_qualified: z.boolean(), created: z.boolean() });
export type LeadRow = z.infer<typeof leadRow>;
const existingRow = leadRow.extend({ phone_e164: z.string().nullable(), lid: z.string().nullable(), name: z.string().nullable() });

/** What names a person to a bot: the lead's routing key, and its phone and lid when known. */
export type LeadIdentifiers = { readonly waId: string; readonly phoneE164?: string | null; readonly lid?: string | null };

/**
 * Serialises every transaction that resolves one of these identifiers (a key, phone, lid) until
 * commit: two messages of one person can then never both miss the lead and both create it, and a
 * merge of two leads never interleaves with a message of either. The locks are taken in one stable
 * order, so two transactions cannot deadlock.
 */
export const lockIdentifiers = async (tx: TenantTransaction, tenantId: string, botId: string, people: readonly LeadIdentifiers[]) => {
  const scope = `lead-identity/${tenantId}/${botId}/`;
  const names = people.flatMap((person) => [`key:${person.waId}`, person.phoneE164 ? `phone:${person.phoneE164}` : null, person.lid ? `lid:${person.lid}` : null])
    .filter((name): name is string => name !== null).map((name) => scope + name);
  await tx.query(sql.unsafe`
    SELECT pg_advisory_xact_lock(lock) FROM (
      SELECT DISTINCT hashtextextended(name, 0) AS lock FROM unnest(${sql.array(names, 'text')}::text[]) AS name ORDER BY lock) ordered`);
};

/**
 * The lead this message's identifiers name, in order: its routing key; its phone; its lid, unless
 * the lid's lead has another phone than the message (the pairing WhatsApp gives wins over an older one).
 */
const findExisting = (tx: TenantTransaction, message: InboundMessage) => tx.maybeOne(sql.type(existingRow)`
  SELECT id, score, is_qualified, false AS created, phone_e164, lid, name FROM leads
  WHERE tenant_id = ${message.tenantId} AND bot_id = ${message.botId}
    AND (wa_id = ${message.waId}
      OR phone_e164 = ${message.phoneE164 ?? null}
      OR (lid = ${message.lid ?? null} AND (phone_e164 IS NULL OR ${message.phoneE164 ?? null}::text IS NULL OR phone_e164 = ${message.phoneE164 ?? null})))
  ORDER BY wa_id = ${message.waId} DESC, phone_e164 IS NOT DISTINCT FROM ${message.phoneE164 ?? null} DESC, created_at, id
  LIMIT 1`);

/** `value` when no other lead of the bot holds it in `column`, else NULL: an identifier belongs to one lead. */
const unlessHeld = (message: InboundMessage, column: 'phone_e164' | 'lid', value: string | null, leadId: string | null) => sql.fragment`
  (SELECT ${value}::text WHERE NOT EXISTS (
    SELECT 1 FROM leads other WHERE other.tenant_id = ${message.tenantId} AND other.bot_id = ${message.botId}
      AND other.${sql.identifier([column])} = ${value} AND other.id IS DISTINCT FROM ${leadId}::uuid))`;

/**
 * A message that pairs a phone and a lid another lead holds (the person is two leads): the pairing
 * is kept as evidence, so the duplicate-lead-identity check can offer their merge to a person.
 */
const recordSplitPairing = async (tx: TenantTransaction, message: InboundMessage, leadId: string) => {
  if (!message.phoneE164 || !message.lid) return;
  await tx.query(sql.unsafe`
    INSERT INTO lead_identity_pairings (tenant_id, bot_id, phone_e164, lid)
    SELECT ${message.tenantId}, ${message.botId}, ${message.phoneE164}, ${message.lid} WHERE EXISTS (
      SELECT 1 FROM leads WHERE tenant_id = ${message.tenantId} AND bot_id = ${message.botId} AND id <> ${leadId}
        AND (lid = ${message.lid} OR phone_e164 = ${message.phoneE164}))
    ON CONFLICT ON CONSTRAINT lead_identity_pairings_unique DO NOTHING`);
};

/**
 * Finds or creates the message's lead and records what the message says about its identity: a
 * phone or lid the lead did not have yet is added, one it already has is never overwritten, and a
 * phone or lid another lead holds stays with that lead (two leads are never merged automatically;
 * the pairing is recorded for a person to decide). Race-free and independent of the order in
 * which a person's messages arrive.
 */
export const resolveLead = async (tx: TenantTransaction, message: InboundMessage): Promise<LeadRow> => {
  await lockIdentifiers(tx, message.tenantId, message.botId, [message]);
  const found = await findExisting(tx, message);
  if (found) {
    const { phone_e164: phone, lid, name, ...existing } = found;
    // Only what the lead lacks and the message brings: an update that changes nothing would still
    // run the lead's triggers and write an audit row, on every message.
    const adds = (!phone && message.phoneE164) || (!lid && message.lid) || (!name && message.pushName);
    if (adds) {
      await tx.query(sql.unsafe`
        UPDATE leads SET
          phone_e164 = coalesce(phone_e164, ${unlessHeld(message, 'phone_e164', message.phoneE164 ?? null, existing.id)}),
          lid = coalesce(lid, ${unlessHeld(message, 'lid', message.lid ?? null, existing.id)}),
          name = coalesce(name, ${message.pushName ?? null})
        WHERE tenant_id = ${message.tenantId} AND id = ${existing.id}
          AND (phone_e164 IS NULL OR lid IS NULL OR name IS NULL)`);
    }
    await recordSplitPairing(tx, message, existing.id);
    return existing;
  }
  const created = await tx.one(sql.type(leadRow)`
    INSERT INTO leads (tenant_id, bot_id, wa_id, phone_e164, lid, name, last_message_at)
    VALUES (${message.tenantId}, ${message.botId}, ${message.waId}, ${message.phoneE164 ?? null},
            ${unlessHeld(message, 'lid', message.lid ?? null, null)}, ${message.pushName ?? null}, ${message.receivedAt})
    ON CONFLICT ON CONSTRAINT leads_wa_id_unique DO UPDATE SET last_message_at = leads.last_message_at
    RETURNING id, score, is_qualified, (xmax = 0) AS created`);
  await recordSplitPairing(tx, message, created.id);
  return created;
};
