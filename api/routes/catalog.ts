// A bot's catalog: images (uploaded as base64 JSON, their type checked by their content, stored in
// S3 under the tenant's prefix) and products. Deleting a bot: api/routes/bot-delete.ts.
import { randomUUID } from 'node:crypto';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { sql } from 'slonik';
import { z } from 'zod';
import { tenantImageKey } from '../../core/object-keys.ts';
import { storableText } from '../../core/text-patterns.ts';
import type { TenantTransaction } from '../../core/db/with-tenant.ts';
import { auditResource } from '../audit.ts';
import type { ApiDeps } from '../deps.ts';
import { HttpProblem } from '../problem.ts';
import type { Registry } from '../route.ts';
import { requireBot } from './require-bot.ts';
import { botParams, nameText } from './schemas.ts';
import { patchBody, updateAudited } from './update-row.ts';

export const MAX_IMAGE_BYTES = 10 * 1024 * 1024;
const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/gif'] as const;
type ImageType = typeof IMAGE_TYPES[number];
const EXTENSIONS: Record<ImageType, string> = { 'image/jpeg': 'jpg', 'image/png': 'png', 'image/webp': 'webp', 'image/gif': 'gif' };

/** The image type the bytes themselves say, whatever the client declared. */
export const sniffImageType = (data: Buffer): ImageType | null => {
  if (data.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (data.subarray(0, 3).equals(Buffer.from([0xff, 0xd8, 0xff]))) return 'image/jpeg';
  if (['GIF87a', 'GIF89a'].includes(data.subarray(0, 6).toString('latin1'))) return 'image/gif';
  if (data.subarray(0, 4).toString('latin1') === 'RIFF' && data.subarray(8, 12).toString('latin1') === 'WEBP') return 'image/webp';
  return null;
};

// The same fields as the list (api/routes/catalog-images.ts).
const image = z.object({
  id: z.uuid(), objectKey: z.string(), contentType: z.enum(IMAGE_TYPES), sizeBytes: z.number().int(), keywords: z.array(z.string()), createdAt: z.string(),
});
const product = z.object({
  id: z.uuid(), sku: z.string(), name: z.string(), description: z.string().nullable(), price: z.string(), currency: z.string(),
  imageId: z.uuid().nullable(), active: z.boolean(),
});
const productRow = z.object({
  id: z.uuid(), sku: z.string(), name: z.string(), description: z.string().nullable(), price: z.string(), currency: z.string(),
  image_id: z.uuid().nullable(), active: z.boolean(),
});
const PRODUCT_COLUMNS = sql.fragment`id, sku, name, description, price::text AS price, currency, image_id, active`;
const toProduct = (row: z.infer<typeof productRow>) => ({ ...row, imageId: row.image_id, image_id: undefined });
/** The fields a product is written with: create and update validate them alike. */
const productFields = {
  sku: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/),
  name: nameText(200),
  description: storableText({ max: 5000 }),
  price: z.string().regex(/^\d{1,10}(\.\d{1,2})?$/, 'a decimal amount such as 199.90'),
  currency: z.string().regex(/^[A-Z]{3}$/),
  imageId: z.uuid(),
  active: z.boolean(),
};
const productParams = z.strictObject({ tenantId: z.uuid(), botId: z.uuid(), productId: z.uuid() });

/** A product's picture is one of its own bot's images: 422 otherwise (another bot's, another tenant's). */
const requireBotImage = async (tx: TenantTransaction, tenantId: string, botId: string, imageId: string) => {
  if (!await tx.exists(sql.unsafe`SELECT 1 FROM bot_images WHERE tenant_id = ${tenantId} AND bot_id = ${botId} AND id = ${imageId}`)) {
    throw new HttpProblem(422, 'No such image', `image ${imageId} is not an image of this bot`);
  }
};

export const registerCatalogRoutes = (registry: Registry, deps: ApiDeps) => {
  const requireTenantBot = (tenantId: string, botId: string) => deps.withTenant(tenantId, (tx) => requireBot(tx, tenantId, botId));

  registry.add({
    method: 'post', path: '/tenants/:tenantId/bots/:botId/images', summary: 'Upload an image (base64; its type is checked by its content)', tag: 'catalog',
    access: 'any', params: botParams, status: 201,
    body: z.strictObject({
      contentType: z.enum(IMAGE_TYPES),
      data: z.base64().max(Math.ceil(MAX_IMAGE_BYTES / 3) * 4).describe(`base64, at most ${MAX_IMAGE_BYTES} bytes decoded`),
      keywords: z.array(nameText(50)).max(20).default([]),
    }),
    response: image,
  }, async ({ request, params, body }) => {
    const data = Buffer.from(body.data, 'base64');
    // Base64's length allows up to two bytes more than the limit: checked before anything is stored.
    if (data.length > MAX_IMAGE_BYTES) throw new HttpProblem(413, 'Image too large', `the image is ${data.length} bytes; at most ${MAX_IMAGE_BYTES}`);
    const actual = sniffImageType(data);
    if (actual === null) throw new HttpProblem(415, 'Not an image', 'the content is not a JPEG, PNG, WebP or GIF image');
    if (actual !== body.contentType) throw new HttpProblem(415, 'Type mismatch', `declared ${body.contentType}, but the content is ${actual}`);
    await requireTenantBot(params.tenantId, params.botId);
    const objectKey = tenantImageKey(params.tenantId, randomUUID(), EXTENSIONS[actual]);
    await deps.s3.send(new PutObjectCommand({ Bucket: deps.config.s3.bucket, Key: objectKey, Body: data, ContentType: actual }));
    const actor = `api:${request.principal!.tokenId}`;
    const created = await deps.withTenant(params.tenantId, async (tx) => {
      const row = await tx.one(sql.type(z.object({ id: z.uuid(), createdAt: z.number() }))`
        INSERT INTO bot_images (tenant_id, bot_id, object_key, content_type, size_bytes, keywords)
        VALUES (${params.tenantId}, ${params.botId}, ${objectKey}, ${actual}, ${data.length}, ${sql.array(body.keywords, 'text')})
        RETURNING id, created_at AS "createdAt"`);
      await auditResource(tx, params.tenantId, actor, 'bot-image.created', {
        imageId: row.id, botId: params.botId, objectKey, contentType: actual, sizeBytes: data.length, keywords: body.keywords,
      });
      return row;
    }, { actor }).catch(async (error: unknown) => {
      // The row was not written: the object goes too, so S3 holds nothing the catalog does not know.
      await deps.s3.send(new DeleteObjectCommand({ Bucket: deps.config.s3.bucket, Key: objectKey })).catch(() => undefined);
      throw error;
    });
    return { id: created.id, objectKey, contentType: actual, sizeBytes: data.length, keywords: body.keywords, createdAt: new Date(created.createdAt).toISOString() };
  });

  registry.add({
    method: 'get', path: '/tenants/:tenantId/bots/:botId/products', summary: 'List a bot\'s products', tag: 'catalog', access: 'any',
    params: botParams, response: z.object({ items: z.array(product) }),
  }, async ({ params }) => {
    await requireTenantBot(params.tenantId, params.botId);
    const rows = await deps.withTenant(params.tenantId, (tx) => tx.any(sql.type(productRow)`
      SELECT ${PRODUCT_COLUMNS} FROM products WHERE tenant_id = ${params.tenantId} AND bot_id = ${params.botId} ORDER BY name, id`));
    return { items: rows.map(toProduct) };
  });

  registry.add({
    method: 'post', path: '/tenants/:tenantId/bots/:botId/products', summary: 'Create a product', tag: 'catalog', access: 'any',
    params: botParams, status: 201,
    body: z.strictObject({
      ...productFields,
      description: productFields.description.optional(),
      currency: productFields.currency.default('BRL'),
      imageId: productFields.imageId.optional(),
      active: productFields.active.default(true),
    }),
    response: product,
  }, async ({ request, params, body }) => {
    await requireTenantBot(params.tenantId, params.botId);
    const row = await deps.withTenant(params.tenantId, async (tx) => {
      if (body.imageId) await requireBotImage(tx, params.tenantId, params.botId, body.imageId);
      return tx.one(sql.type(productRow)`
        INSERT INTO products (tenant_id, bot_id, sku, name, description, price, currency, image_id, active)
        VALUES (${params.tenantId}, ${params.botId}, ${body.sku}, ${body.name}, ${body.description ?? null}, ${body.price}::numeric, ${body.currency},
                ${body.imageId ?? null}, ${body.active})
        RETURNING ${PRODUCT_COLUMNS}`);
    }, { actor: `api:${request.principal!.tokenId}` });
    return toProduct(row);
  });

  registry.add({
    method: 'patch', path: '/tenants/:tenantId/bots/:botId/products/:productId', summary: 'Update a product (the fields given; null clears description or image)',
    tag: 'catalog', access: 'any', params: productParams,
    body: patchBody({ ...productFields, description: productFields.description.nullable(), imageId: productFields.imageId.nullable() }),
    response: product,
  }, async ({ request, params, body }) => {
    const { tenantId, botId, productId } = params;
    const actor = `api:${request.principal!.tokenId}`;
    const row = await deps.withTenant(tenantId, (tx) => updateAudited(tx, {
      tenantId, actor, action: 'product.updated', subject: { productId, botId }, what: 'product',
      table: 'products', row: productRow, columns: PRODUCT_COLUMNS, where: sql.fragment`tenant_id = ${tenantId} AND bot_id = ${botId} AND id = ${productId}`,
      body, fieldColumns: { sku: 'sku', name: 'name', description: 'description', price: 'price', currency: 'currency', imageId: 'image_id', active: 'active' },
      view: toProduct, check: async () => { if (body.imageId) await requireBotImage(tx, tenantId, botId, body.imageId); },
    }), { actor });
    return toProduct(row);
  });

  registry.add({
    method: 'delete', path: '/tenants/:tenantId/bots/:botId/products/:productId', summary: 'Delete a product (its image stays in the bot\'s images)',
    tag: 'catalog', access: 'any', params: productParams,
    response: z.object({ productId: z.uuid(), deleted: z.literal(true) }),
  }, async ({ request, params }) => deps.withTenant(params.tenantId, async (tx) => {
    const deleted = await tx.maybeOne(sql.unsafe`
      DELETE FROM products WHERE tenant_id = ${params.tenantId} AND bot_id = ${params.botId} AND id = ${params.productId} RETURNING id`);
    if (!deleted) throw new HttpProblem(404, 'Not found', 'no such product');
    return { productId: params.productId, deleted: true as const };
  }, { actor: `api:${request.principal!.tokenId}` }));
};
