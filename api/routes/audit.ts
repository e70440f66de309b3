// The readable audit trail (docs/audit.md): a tenant's entries under its own RLS, and every entry,
// the platform's own included, for platform admins. Secrets never leave (core/audit/redact.ts).
import { z } from 'zod';
import type { ApiDeps } from '../deps.ts';
import type { Registry } from '../route.ts';
import { auditFilters, auditPage, readAuditPage } from './audit-page.ts';
import { tenantParams } from './schemas.ts';

export const registerAuditRoutes = (registry: Registry, deps: ApiDeps) => {
  registry.add({
    method: 'get', path: '/tenants/:tenantId/audit', summary: 'A tenant\'s audit trail, newest first: actions and row changes, with before and after',
    tag: 'audit', access: 'any', params: tenantParams, query: auditFilters, response: auditPage,
  }, async ({ params, query }) => deps.withTenant(params.tenantId, (tx) => readAuditPage(tx, params.tenantId, query)));

  registry.add({
    method: 'get', path: '/audit', summary: 'The whole audit trail, every tenant\'s and the platform\'s, newest first',
    tag: 'audit', access: 'platform-admin',
    query: auditFilters.safeExtend({ tenantId: z.uuid().optional().describe('one tenant\'s entries only') }),
    response: auditPage,
  }, async ({ query }) => {
    const { tenantId, ...filters } = query;
    // Across tenants: the maintenance role reads past RLS, as the other platform-wide reads do.
    return readAuditPage(deps.pools.maintenance, tenantId ?? null, filters);
  });
};
