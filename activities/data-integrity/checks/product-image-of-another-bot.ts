// products_image_fk is (tenant_id, image_id): it keeps the image in the tenant but cannot say the
// image belongs to the product's own bot, so a product can show another bot's catalog picture.
import { sql } from 'slonik';
import { z } from 'zod';
import type { IntegrityCheck } from '../../../core/data-integrity/check.ts';
import { MAX_FINDINGS_PER_CHECK } from '../../../core/data-integrity/check.ts';
import { inScope } from './tenant-filter.ts';

const row = z.object({ productId: z.uuid(), tenantId: z.uuid(), botId: z.uuid(), imageId: z.uuid(), imageBotId: z.uuid() });

export const productImageOfAnotherBot: IntegrityCheck = {
  name: 'product-image-of-another-bot',
  severity: 'warning',
  description: "A product whose image belongs to another bot of the tenant.",
  platformOnly: false,
  fix: {
    class: 'approval',
    description: 'Clear the image reference: the product shows no picture until the tenant picks one of its own bot.',
    appliesTo: () => true,
    apply: async (tx, finding, logBeforeImage) => {
      const productId = z.uuid().parse(finding.details.productId);
      await logBeforeImage({ table: 'products', keyColumn: 'id', key: productId, operation: 'update', columns: ['image_id'] });
      await tx.query(sql.unsafe`UPDATE products SET image_id = NULL WHERE id = ${productId}`);
    },
  },
  find: async (tx, scope) => {
    const rows = await tx.any(sql.type(row)`
      SELECT p.id AS "productId", p.tenant_id AS "tenantId", p.bot_id AS "botId", p.image_id AS "imageId", i.bot_id AS "imageBotId"
        FROM products p JOIN bot_images i ON i.tenant_id = p.tenant_id AND i.id = p.image_id
       WHERE i.bot_id <> p.bot_id AND ${inScope(scope, sql.identifier(['p', 'tenant_id']))}
       ORDER BY p.tenant_id, p.id LIMIT ${MAX_FINDINGS_PER_CHECK + 1}`);
    return rows.map(({ productId, tenantId, botId, imageId, imageBotId }) => ({
      key: `product:${productId}`,
      tenantId,
      summary: `product ${productId} of bot ${botId} shows image ${imageId} of bot ${imageBotId}`,
      details: { productId, botId, imageId, imageBotId },
    }));
  },
};
