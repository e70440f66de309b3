// API tokens: issued by platform admins, shown once, listed without secrets, revoked by id. Every
// query here runs on the token role's pool (deps.tokenPool), which the rest of the API never uses.
import { z } from 'zod';
import type { AuthCache } from '../auth.ts';
import { HttpProblem } from '../problem.ts';
import { issueToken, listTokens, revokeToken, type TokenRow } from '../token-store.ts';
import type { ApiDeps } from '../deps.ts';
import type { Registry } from '../route.ts';
import { nameText, tenantParams } from './schemas.ts';

const role = z.enum(['platform-admin', 'tenant-admin']);
const issued = z.object({
  id: z.uuid(), role, tenantId: z.uuid().nullable(), expiresAt: z.string().nullable(),
  token: z.string().describe('Shown once; only its SHA-256 is stored.'),
});
const expiresAt = z.iso.datetime({ offset: true })
  .refine((value) => Date.parse(value) > Date.now(), 'must be in the future')
  .describe('Optional expiry (ISO 8601 with offset); after it the token is refused like a revoked one.');
const tokenRequest = z.strictObject({ name: nameText(200), expiresAt: expiresAt.optional() });

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const listed = z.object({
  id: z.uuid(), role, tenantId: z.uuid().nullable(), name: z.string(), createdAt: z.string(), lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(), expiresAt: z.string().nullable(),
});
const toListed = (row: TokenRow) => ({
  id: row.id, role: row.role, tenantId: row.tenant_id, name: row.name, createdAt: iso(row.created_at)!, lastUsedAt: iso(row.last_used_at),
  revokedAt: iso(row.revoked_at), expiresAt: iso(row.expires_at),
});

export const registerTokenRoutes = (registry: Registry, deps: ApiDeps, authCache: AuthCache) => {
  const issue = async (tenantId: string | null, body: z.output<typeof tokenRequest>, actorTokenId: string) => {
    const expiry = body.expiresAt === undefined ? null : new Date(body.expiresAt);
    const token = await issueToken(deps.tokenPool, { tenantId, name: body.name, expiresAt: expiry, actor: `api:${actorTokenId}` });
    if (!token) throw new HttpProblem(404, 'Not found', 'no such tenant');
    return { id: token.id, role: tenantId === null ? 'platform-admin' as const : 'tenant-admin' as const, tenantId, expiresAt: iso(expiry?.getTime() ?? null), token: token.token };
  };

  registry.add({
    method: 'get', path: '/tokens', summary: 'List tokens (never their secrets)', tag: 'tokens', access: 'platform-admin',
    query: z.strictObject({ tenantId: z.uuid().optional() }), response: z.object({ items: z.array(listed) }),
  }, async ({ query }) => ({ items: (await listTokens(deps.tokenPool, query.tenantId ?? null)).map(toListed) }));

  registry.add({
    method: 'post', path: '/tokens', summary: 'Issue a platform-admin token', tag: 'tokens', access: 'platform-admin', status: 201,
    body: tokenRequest, response: issued,
  }, async ({ body, principal }) => issue(null, body, principal.tokenId));

  registry.add({
    method: 'post', path: '/tenants/:tenantId/tokens', summary: 'Issue a tenant-admin token', tag: 'tokens', access: 'platform-admin', status: 201,
    params: tenantParams, body: tokenRequest, response: issued,
  }, async ({ params, body, principal }) => issue(params.tenantId, body, principal.tokenId));

  registry.add({
    method: 'delete', path: '/tokens/:tokenId', summary: 'Revoke a token', tag: 'tokens', access: 'platform-admin',
    params: z.strictObject({ tokenId: z.uuid() }), response: z.object({ id: z.uuid(), revoked: z.literal(true) }),
  }, async ({ params, principal }) => {
    if (!await revokeToken(deps.tokenPool, params.tokenId, `api:${principal.tokenId}`)) throw new HttpProblem(404, 'Not found', 'no such token');
    authCache.forget(params.tokenId);
    return { id: params.tokenId, revoked: true as const };
  });
};
