// Rows that name an object of the bucket which the listing does not hold: a bot image (the bot's
// catalog cannot send it), a message's media (the conversation lost its attachment) and a complete
// backup's manifest (the backup cannot be restored, while backup-age counts it as fresh). The listing is taken after the snapshot and the API uploads an
// image before it inserts its row, so a row the snapshot sees had its object listed, unless lost.
import { sql } from 'slonik';
import { z } from 'zod';
import type { IntegrityCheck } from '../../../core/data-integrity/check.ts';
import { MAX_FINDINGS_PER_CHECK } from '../../../core/data-integrity/check.ts';
import { inScope } from './tenant-filter.ts';

const row = z.object({
  table: z.enum(['bot_images', 'lead_messages', 'backups']), id: z.string(), tenantId: z.uuid().nullable(), botId: z.uuid().nullable(), objectKey: z.string(),
});
const imageDetails = z.object({ table: z.literal('bot_images'), id: z.uuid(), objectKey: z.string() });
const productId = z.object({ id: z.uuid() });

const SUMMARIES = {
  bot_images: (id: string, botId: string | null, objectKey: string) => `image ${id} of bot ${botId} names object ${objectKey}, which is not in the bucket`,
  lead_messages: (id: string, botId: string | null, objectKey: string) => `message ${id} of bot ${botId} names media ${objectKey}, which is not in the bucket`,
  backups: (id: string, _botId: string | null, objectKey: string) => `complete backup ${id} names manifest ${objectKey}, which is not in the bucket: it cannot be restored`,
} as const;

export const rowsMissingObjects: IntegrityCheck = {
  name: 'rows-missing-objects',
  severity: 'critical',
  description: 'A bot image, a message\'s media, or a complete backup\'s manifest, whose object is not in the bucket.',
  platformOnly: false,
  needs: ['objects'],
  fix: {
    class: 'approval',
    description: 'Delete the image row (its products show no picture until the tenant uploads it again); an undo re-inserts it.',
    appliesTo: (finding) => finding.details.table === 'bot_images',
    apply: async (tx, finding, logBeforeImage, effects) => {
      const image = imageDetails.parse(finding.details);
      // Approved perhaps hours later: the object may be back (a restore), then the row is right as it is.
      if (await effects.objectExists(image.objectKey)) throw new Error(`object ${image.objectKey} exists again: nothing to fix`);
      // The key clears image_id itself (ON DELETE SET NULL), but only logged changes can be undone.
      for (const { id } of await tx.any(sql.type(productId)`SELECT id FROM products WHERE image_id = ${image.id} ORDER BY id`)) {
        await logBeforeImage({ table: 'products', keyColumn: 'id', key: id, operation: 'update', columns: ['image_id'] });
        await tx.query(sql.unsafe`UPDATE products SET image_id = NULL WHERE id = ${id}`);
      }
      await logBeforeImage({ table: 'bot_images', keyColumn: 'id', key: image.id, operation: 'delete' });
      await tx.query(sql.unsafe`DELETE FROM bot_images WHERE id = ${image.id}`);
    },
  },
  find: async (tx, scope, { objects }) => {
    const rows = await tx.any(sql.type(row)`
      WITH listed AS (SELECT unnest(${sql.array(objects.map((object) => object.key), 'text')}) AS key)
      SELECT 'bot_images' AS "table", i.id::text AS id, i.tenant_id AS "tenantId", i.bot_id AS "botId", i.object_key AS "objectKey"
        FROM bot_images i
       WHERE ${inScope(scope, sql.identifier(['i', 'tenant_id']))} AND NOT EXISTS (SELECT 1 FROM listed l WHERE l.key = i.object_key)
      UNION ALL
      SELECT 'lead_messages', m.id::text, m.tenant_id, m.bot_id, m.media_object_key
        FROM lead_messages m
       WHERE m.media_object_key IS NOT NULL AND ${inScope(scope, sql.identifier(['m', 'tenant_id']))}
         AND NOT EXISTS (SELECT 1 FROM listed l WHERE l.key = m.media_object_key)
      UNION ALL
      SELECT 'backups', b.id, NULL, NULL, b.manifest_key
        FROM backups b
       WHERE ${scope.tenantId === null} AND b.status = 'complete' AND NOT EXISTS (SELECT 1 FROM listed l WHERE l.key = b.manifest_key)
       ORDER BY 1, 2 LIMIT ${MAX_FINDINGS_PER_CHECK + 1}`);
    return rows.map(({ table, id, tenantId, botId, objectKey }) => ({
      key: `${table}:${id}`,
      tenantId,
      summary: SUMMARIES[table](id, botId, objectKey),
      details: { table, id, objectKey, ...(botId === null ? {} : { botId }) },
    }));
  },
};
