// A tenant's suppression list: addresses its email sequences must not mail (bounced, unsubscribed,
// or added by hand). Listed newest first; an admin adds an address (reason `manual`) or removes one
// to allow mailing it again. Every change is audited, the address as its digest (api/email-audit.ts).
import { sql } from 'slonik';
import { z } from 'zod';
import { emailAddress } from '../../core/email-sequences/smtp-settings.ts';
import { storableText } from '../../core/text-patterns.ts';
import type { ApiDeps } from '../deps.ts';
import { addressDigest, auditEmail } from '../email-audit.ts';
import { HttpProblem } from '../problem.ts';
import type { Registry } from '../route.ts';
import { CREATED_US, keysetPage, olderThan } from './keyset-page.ts';
import { cursorSchema, tenantParams } from './schemas.ts';

const REASONS = ['bounced', 'unsubscribed', 'manual'] as const;
const suppression = z.object({ id: z.uuid(), address: z.string(), reason: z.enum(REASONS), detail: z.string(), createdAt: z.string() });
const suppressionRow = z.object({
  id: z.uuid(), address: z.string(), reason: z.enum(REASONS), detail: z.string(), created_at: z.number(), created_us: z.string(),
});
const COLUMNS = sql.fragment`id, address, reason, detail, created_at, ${CREATED_US}`;
const toSuppression = (row: z.infer<typeof suppressionRow>) => ({
  id: row.id, address: row.address, reason: row.reason, detail: row.detail, createdAt: new Date(row.created_at).toISOString(),
});
const suppressionParams = z.strictObject({ tenantId: z.uuid(), suppressionId: z.uuid() });

export const registerEmailSuppressionRoutes = (registry: Registry, deps: ApiDeps) => {
  registry.add({
    method: 'get', path: '/tenants/:tenantId/email-suppressions', summary: 'List the addresses the tenant does not mail, newest first',
    tag: 'email-sequences', access: 'any', params: tenantParams,
    query: z.strictObject({ reason: z.enum(REASONS).optional(), limit: z.coerce.number().int().min(1).max(100).default(50), cursor: cursorSchema.optional() }),
    response: z.object({ items: z.array(suppression), nextCursor: z.string().nullable() }),
  }, async ({ params, query }) => {
    const { tenantId } = params;
    const conditions = [sql.fragment`tenant_id = ${tenantId}`];
    if (query.reason) conditions.push(sql.fragment`reason = ${query.reason}`);
    if (query.cursor) conditions.push(olderThan(query.cursor));
    const rows = await deps.withTenant(tenantId, (tx) => tx.any(sql.type(suppressionRow)`
      SELECT ${COLUMNS} FROM email_suppressions WHERE ${sql.join(conditions, sql.fragment` AND `)}
      ORDER BY created_at DESC, id DESC LIMIT ${query.limit + 1}`));
    return keysetPage(rows, query.limit, toSuppression);
  });

  registry.add({
    method: 'post', path: '/tenants/:tenantId/email-suppressions',
    summary: 'Stop mailing an address (reason manual); an address already suppressed keeps its entry, which is answered',
    tag: 'email-sequences', access: 'any', params: tenantParams, status: 201,
    body: z.strictObject({ address: emailAddress, detail: storableText({ min: 1, max: 1000 }).default('added through the API') }),
    response: suppression,
  }, async ({ request, params, body }) => {
    const actor = `api:${request.principal!.tokenId}`;
    const { tenantId } = params;
    return deps.withTenant(tenantId, async (tx) => {
      if (!await tx.exists(sql.unsafe`SELECT 1 FROM tenants WHERE id = ${tenantId}`)) throw new HttpProblem(404, 'Not found', 'no such tenant');
      const added = await tx.maybeOne(sql.type(suppressionRow)`
        INSERT INTO email_suppressions (tenant_id, address, reason, detail) VALUES (${tenantId}, ${body.address}, 'manual', ${body.detail})
        ON CONFLICT (tenant_id, address) DO NOTHING RETURNING ${COLUMNS}`);
      if (added) await auditEmail(tx, tenantId, actor, 'email.suppression_added', { suppressionId: added.id, addressSha256: addressDigest(body.address) });
      return toSuppression(added ?? await tx.one(sql.type(suppressionRow)`
        SELECT ${COLUMNS} FROM email_suppressions WHERE tenant_id = ${tenantId} AND address = ${body.address}`));
    }, { actor });
  });

  registry.add({
    method: 'delete', path: '/tenants/:tenantId/email-suppressions/:suppressionId',
    summary: 'Allow mailing an address again (its suppression is removed)', tag: 'email-sequences', access: 'any', params: suppressionParams,
    response: z.object({ suppressionId: z.uuid(), deleted: z.literal(true) }),
  }, async ({ request, params }) => {
    const actor = `api:${request.principal!.tokenId}`;
    await deps.withTenant(params.tenantId, async (tx) => {
      const removed = await tx.maybeOne(sql.type(z.object({ address: z.string(), reason: z.enum(REASONS) }))`
        DELETE FROM email_suppressions WHERE tenant_id = ${params.tenantId} AND id = ${params.suppressionId} RETURNING address, reason`);
      if (!removed) throw new HttpProblem(404, 'Not found', 'no such suppression');
      await auditEmail(tx, params.tenantId, actor, 'email.suppression_removed', {
        suppressionId: params.suppressionId, reason: removed.reason, addressSha256: addressDigest(removed.address),
      });
    }, { actor });
    return { suppressionId: params.suppressionId, deleted: true as const };
  });
};
