// A bot's images (uploaded by POST .../images, api/routes/catalog.ts): listed with their keywords,
// and deleted with their object in S3 after the commit. A product showing a deleted image keeps
// its row, without a picture (products_image_fk ON DELETE SET NULL).
import { sql } from 'slonik';
import { z } from 'zod';
import { deleteObjectKeys } from '../../core/delete-objects.ts';
import { auditResource } from '../audit.ts';
import type { ApiDeps } from '../deps.ts';
import { HttpProblem } from '../problem.ts';
import type { Registry } from '../route.ts';
import { requireBot } from './require-bot.ts';
import { botParams } from './schemas.ts';

const image = z.object({
  id: z.uuid(), objectKey: z.string(), contentType: z.string(), sizeBytes: z.number().int(), keywords: z.array(z.string()), createdAt: z.string(),
});
const imageRow = z.object({
  id: z.uuid(), object_key: z.string(), content_type: z.string(), size_bytes: z.number(), keywords: z.array(z.string()), created_at: z.number(),
});
const imageParams = z.strictObject({ tenantId: z.uuid(), botId: z.uuid(), imageId: z.uuid() });

export const registerCatalogImageRoutes = (registry: Registry, deps: ApiDeps) => {
  registry.add({
    method: 'get', path: '/tenants/:tenantId/bots/:botId/images', summary: 'List a bot\'s images, oldest first', tag: 'catalog', access: 'any',
    params: botParams, response: z.object({ items: z.array(image) }),
  }, async ({ params }) => {
    const rows = await deps.withTenant(params.tenantId, async (tx) => {
      await requireBot(tx, params.tenantId, params.botId);
      return tx.any(sql.type(imageRow)`
        SELECT id, object_key, content_type, size_bytes::int AS size_bytes, keywords, created_at FROM bot_images
        WHERE tenant_id = ${params.tenantId} AND bot_id = ${params.botId} ORDER BY created_at, id`);
    });
    return {
      items: rows.map((row) => ({
        id: row.id, objectKey: row.object_key, contentType: row.content_type, sizeBytes: row.size_bytes, keywords: row.keywords,
        createdAt: new Date(row.created_at).toISOString(),
      })),
    };
  });

  registry.add({
    method: 'delete', path: '/tenants/:tenantId/bots/:botId/images/:imageId', summary: 'Delete an image and its object (its products keep their rows, without it)',
    tag: 'catalog', access: 'any', params: imageParams,
    response: z.object({
      imageId: z.uuid(), deleted: z.literal(true), productsUnlinked: z.number().int(),
      objectDeleted: z.boolean().describe('false when the object could not be deleted after the commit; the integrity run reports it as unclaimed'),
    }),
  }, async ({ request, params }) => {
    const { tenantId, botId, imageId } = params;
    const actor = `api:${request.principal!.tokenId}`;
    const { objectKey, productsUnlinked } = await deps.withTenant(tenantId, async (tx) => {
      const found = await tx.maybeOne(sql.type(z.object({ objectKey: z.string(), productsUnlinked: z.number() }))`
        SELECT i.object_key AS "objectKey",
               (SELECT count(*)::int FROM products WHERE tenant_id = i.tenant_id AND image_id = i.id) AS "productsUnlinked"
        FROM bot_images i WHERE i.tenant_id = ${tenantId} AND i.bot_id = ${botId} AND i.id = ${imageId} FOR UPDATE`);
      if (!found) throw new HttpProblem(404, 'Not found', 'no such image');
      await tx.query(sql.unsafe`DELETE FROM bot_images WHERE tenant_id = ${tenantId} AND id = ${imageId}`);
      await auditResource(tx, tenantId, actor, 'bot-image.deleted', { imageId, botId, ...found });
      return found;
    }, { actor });
    const objectDeleted = await deleteObjectKeys({ s3: deps.s3, bucket: deps.config.s3.bucket }, [objectKey]).then(() => true, (error: unknown) => {
      deps.logger.warn({ err: error, tenantId, imageId }, 'the object of a deleted image was not deleted');
      return false;
    });
    return { imageId, deleted: true as const, productsUnlinked, objectDeleted };
  });
};
