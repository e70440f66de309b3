// API tokens: issued by platform admins, shown once, revoked by id.
import { sql } from 'slonik';
import { z } from 'zod';
import type { AuthCache } from '../auth.ts';
import { HttpProblem } from '../problem.ts';
import { generateToken, hashToken } from '../tokens.ts';
import type { ApiDeps } from '../deps.ts';
import type { Registry } from '../route.ts';
import { nameText, tenantParams } from './schemas.ts';

const issued = z.object({
  id: z.uuid(), role: z.enum(['platform-admin', 'tenant-admin']), tenantId: z.uuid().nullable(),
  token: z.string().describe('Shown once; only its SHA-256 is stored.'),
});
const tokenName = z.strictObject({ name: nameText(200) });

export const registerTokenRoutes = (registry: Registry, deps: ApiDeps, authCache: AuthCache) => {
  registry.add({
    method: 'post', path: '/tokens', summary: 'Issue a platform-admin token', tag: 'tokens', access: 'platform-admin', status: 201,
    body: tokenName, response: issued,
  }, async ({ body }) => {
    const token = generateToken();
    const id = await deps.pools.app.oneFirst(sql.type(z.object({ id: z.uuid() }))`SELECT api_issue_platform_token(${body.name}, ${sql.binary(hashToken(token))}) AS id`);
    return { id, role: 'platform-admin' as const, tenantId: null, token };
  });

  registry.add({
    method: 'post', path: '/tenants/:tenantId/tokens', summary: 'Issue a tenant-admin token', tag: 'tokens', access: 'platform-admin', status: 201,
    params: tenantParams, body: tokenName, response: issued,
  }, async ({ params, body, request }) => {
    const token = generateToken();
    const id = await deps.withTenant(params.tenantId, async (tx) => {
      if (!await tx.exists(sql.unsafe`SELECT 1 FROM tenants WHERE id = ${params.tenantId}`)) throw new HttpProblem(404, 'Not found', 'no such tenant');
      return tx.oneFirst(sql.type(z.object({ id: z.uuid() }))`
        INSERT INTO api_tokens (tenant_id, role, name, token_hash) VALUES (${params.tenantId}, 'tenant-admin', ${body.name}, ${sql.binary(hashToken(token))}) RETURNING id`);
    }, { actor: `api:${request.principal!.tokenId}` });
    return { id, role: 'tenant-admin' as const, tenantId: params.tenantId, token };
  });

  registry.add({
    method: 'delete', path: '/tokens/:tokenId', summary: 'Revoke a token', tag: 'tokens', access: 'platform-admin',
    params: z.strictObject({ tokenId: z.uuid() }), response: z.object({ id: z.uuid(), revoked: z.literal(true) }),
  }, async ({ params }) => {
    const revoked = await deps.pools.app.oneFirst(sql.type(z.object({ revoked: z.boolean().nullable() }))`SELECT api_revoke_token(${params.tokenId}) AS revoked`);
    if (!revoked) throw new HttpProblem(404, 'Not found', 'no such token');
    authCache.forget(params.tokenId);
    return { id: params.tokenId, revoked: true as const };
  });
};
