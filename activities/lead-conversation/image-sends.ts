// Product images by keyword (audit 2.1): an inbound message that names an image's keyword claims
// that image for its lead, at most once a day; the workflow sends what the message claimed.
import { sql } from 'slonik';
import { z } from 'zod';
import type { TenantTransaction } from '../../core/db/with-tenant.ts';
import { imagesMentioned } from '../../core/lead-conversation/image-keywords.ts';
import { describeProducts } from '../../core/lead-conversation/replies.ts';
import type { ImageSend, InboundMessage } from '../../core/temporal/lead-conversation.ts';

// Bounds the matching work per message; a bot's catalog is far smaller.
const MAX_IMAGES = 500;

const keywordImageRow = z.object({ id: z.uuid(), keywords: z.array(z.string()) });
const sendRow = z.object({
  image_id: z.uuid(), object_key: z.string(), content_type: z.string(),
  product_name: z.string().nullable(), price: z.string().nullable(), currency: z.string().nullable(),
});

/**
 * Claims, for the lead, each image of the bot whose keywords the message mentions and that the lead
 * has not been sent on the message's day (UTC). In the ingest's transaction, after it updated the
 * lead: stored with the message or not at all. True when it claimed one or more.
 */
export const claimImageSends = async (tx: TenantTransaction, message: InboundMessage, leadId: string): Promise<boolean> => {
  const images = await tx.any(sql.type(keywordImageRow)`
    SELECT id, keywords FROM bot_images
     WHERE tenant_id = ${message.tenantId} AND bot_id = ${message.botId} AND cardinality(keywords) > 0
     ORDER BY created_at, id LIMIT ${MAX_IMAGES}`);
  const mentioned = imagesMentioned(message.text, images);
  if (mentioned.length === 0) return false;
  // The caller's transaction holds the lead's row lock (the ingest updated it): two messages of the
  // lead claim one after the other, and the second sees the first's claim.
  const claims = await tx.query(sql.unsafe`
    WITH day AS (SELECT (${message.receivedAt}::timestamptz AT TIME ZONE 'UTC')::date AS sent_on)
    INSERT INTO lead_image_sends (tenant_id, bot_id, lead_id, image_id, sent_on, wa_message_id)
    SELECT ${message.tenantId}, ${message.botId}, ${leadId}, m.image_id, day.sent_on, ${message.waMessageId}
      FROM unnest(${sql.array(mentioned, 'uuid')}) AS m(image_id), day
     WHERE NOT EXISTS (SELECT 1 FROM lead_image_sends s
                        WHERE s.tenant_id = ${message.tenantId} AND s.bot_id = ${message.botId} AND s.lead_id = ${leadId}
                          AND s.image_id = m.image_id AND s.sent_on = day.sent_on)
    ON CONFLICT ON CONSTRAINT lead_image_sends_claim_unique DO NOTHING`);
  return claims.rowCount > 0;
};

/**
 * The images a message claimed, captioned with the cheapest active product that shows it. Read by
 * the inbound message's id, so a retried ingest of a committed message returns the same sends.
 */
export const imageSendsOf = async (tx: TenantTransaction, message: InboundMessage): Promise<ImageSend[]> => {
  const rows = await tx.any(sql.type(sendRow)`
    SELECT i.id AS image_id, i.object_key, i.content_type, p.name AS product_name, p.price::text AS price, p.currency
      FROM lead_image_sends s
      JOIN bot_images i ON i.tenant_id = s.tenant_id AND i.id = s.image_id
      LEFT JOIN LATERAL (
        SELECT name, price, currency FROM products
         WHERE tenant_id = i.tenant_id AND image_id = i.id AND active ORDER BY price, name LIMIT 1) p ON true
     WHERE s.tenant_id = ${message.tenantId} AND s.bot_id = ${message.botId} AND s.wa_message_id = ${message.waMessageId}
     ORDER BY i.created_at, i.id`);
  return rows.map((row) => ({
    imageId: row.image_id, objectKey: row.object_key, contentType: row.content_type,
    caption: row.product_name === null ? null : describeProducts([{ name: row.product_name, price: row.price!, currency: row.currency! }]),
  }));
};
