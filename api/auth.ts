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

const principalRow = z.object({
  token_id: z.uuid(), role: z.enum(['platform-admin', 'tenant-admin']), tenant_id: z.uuid().nullable(), expires_at: z.number().nullable(),
});
const unauthorized = (detail: string) => new HttpProblem(401, 'Unauthorized', detail);

/**
 * Authenticated principals by token hash, kept for a few seconds: most requests then skip the
 * database lookup. A revocation reaches every API replica within AUTH_CACHE_MS.
 */
export const AUTH_CACHE_MS = 5_000;
const AUTH_CACHE_ENTRIES = 10_000;

export const createAuthCache = () => {
  const entries = new Map<string, { principal: Principal; until: number }>();
  return {
    get(key: string) {
      const entry = entries.get(key);
      if (!entry || entry.until < Date.now()) return undefined;
      return entry.principal;
    },
    /** Kept AUTH_CACHE_MS at most, and never past the token's expiry (ms since the epoch). */
    set(key: string, principal: Principal, expiresAt: number | null = null) {
      if (entries.size >= AUTH_CACHE_ENTRIES) entries.delete(entries.keys().next().value!);
      entries.set(key, { principal, until: Math.min(Date.now() + AUTH_CACHE_MS, expiresAt ?? Infinity) });
    },
    /** A revocation in this process takes effect at once here. */
    forget(tokenId: string) {
      for (const [key, entry] of entries) if (entry.principal.tokenId === tokenId) entries.delete(key);
    },
  };
};
export type AuthCache = ReturnType<typeof createAuthCache>;

export const authenticate = (pool: DatabasePool, cache: AuthCache): RequestHandler => async (request, response, next) => {
  const header = request.get('authorization') ?? '';
  const token = /^Bearer (\S+)$/.exec(header)?.[1];
  if (!token) {
    response.set('WWW-Authenticate', 'Bearer');
    throw unauthorized('send an API token: Authorization: Bearer <token>');
  }
  const hash = TOKEN_FORMAT.test(token) ? hashToken(token) : null;
  const key = hash?.toString('base64');
  const cached = key ? cache.get(key) : undefined;
  const row = cached || !hash ? null : await pool.maybeOne(sql.type(principalRow)`SELECT token_id, role, tenant_id, expires_at FROM api_authenticate(${sql.binary(hash)})`);
  const principal = cached ?? (row ? { tokenId: row.token_id, role: row.role, tenantId: row.tenant_id } : null);
  if (!principal) {
    response.set('WWW-Authenticate', 'Bearer error="invalid_token"');
    throw unauthorized('the token is unknown, revoked or expired');
  }
  if (!cached) cache.set(key!, principal, row?.expires_at ?? null);
  request.principal = principal;
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
