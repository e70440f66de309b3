// Bearer authentication and the two roles. A tenant admin reaches only its own tenant: any other
// tenant id answers 404, the same as one that does not exist, so ids cannot be probed.
import type { Request, RequestHandler } from 'express';
import type { DatabasePool } from 'slonik';
import { sql } from 'slonik';
import { z } from 'zod';
import { HttpProblem } from './problem.ts';
import { hashToken, TOKEN_FORMAT } from './tokens.ts';

export type Principal = { readonly tokenId: string; readonly role: 'platform-admin' | 'tenant-admin'; readonly tenantId: string | null };

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
    /** Set by the app for every request (X-Request-Id when the caller sent a sane one). */
    requestId: string;
  }
}

const principalRow = z.object({ token_id: z.uuid(), role: z.enum(['platform-admin', 'tenant-admin']), tenant_id: z.uuid().nullable() });
const unauthorized = (detail: string) => new HttpProblem(401, 'Unauthorized', detail);

export const authenticate = (pool: DatabasePool): RequestHandler => async (request, response, next) => {
  const header = request.get('authorization') ?? '';
  const token = /^Bearer (\S+)$/.exec(header)?.[1];
  if (!token) {
    response.set('WWW-Authenticate', 'Bearer');
    throw unauthorized('send an API token: Authorization: Bearer <token>');
  }
  const row = TOKEN_FORMAT.test(token)
    ? await pool.maybeOne(sql.type(principalRow)`SELECT token_id, role, tenant_id FROM api_authenticate(${sql.binary(hashToken(token))})`)
    : null;
  if (!row) {
    response.set('WWW-Authenticate', 'Bearer error="invalid_token"');
    throw unauthorized('the token is unknown or revoked');
  }
  request.principal = { tokenId: row.token_id, role: row.role, tenantId: row.tenant_id };
  next();
};

export const principalOf = (request: Request): Principal => {
  if (!request.principal) throw unauthorized('not authenticated');
  return request.principal;
};

export const requirePlatformAdmin = (request: Request): Principal => {
  const principal = principalOf(request);
  if (principal.role !== 'platform-admin') throw new HttpProblem(403, 'Forbidden', 'this needs a platform-admin token');
  return principal;
};

/** The tenant of a tenant-scoped route, once the caller may reach it. */
export const reachableTenant = (request: Request, tenantId: string): string => {
  const principal = principalOf(request);
  if (principal.role === 'tenant-admin' && principal.tenantId !== tenantId) throw new HttpProblem(404, 'Not found', 'no such tenant');
  return tenantId;
};
