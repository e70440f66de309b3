// The application roles must be bound by RLS: superuser or BYPASSRLS would void every policy.
import { sql } from 'slonik';
import { z } from 'zod';
import type { IntegrityCheck } from '../../../core/data-integrity/check.ts';

/** The roles that serve tenants' requests (docs/database.md, "Roles"). */
export const APPLICATION_ROLES = ['bi_app', 'bi_token_admin'];

const row = z.object({ roleName: z.string(), superuser: z.boolean(), bypassRls: z.boolean() });

export const applicationRolesBypassRls: IntegrityCheck = {
  name: 'application-roles-bypass-rls',
  severity: 'critical',
  description: `The application roles (${APPLICATION_ROLES.join(', ')}) are neither superuser nor BYPASSRLS.`,
  platformOnly: true,
  find: async (tx) => {
    const rows = await tx.any(sql.type(row)`
      SELECT rolname AS "roleName", rolsuper AS superuser, rolbypassrls AS "bypassRls"
        FROM pg_roles WHERE rolname = ANY(${sql.array(APPLICATION_ROLES, 'text')}) AND (rolsuper OR rolbypassrls)
       ORDER BY 1`);
    return rows.map(({ roleName, superuser, bypassRls }) => ({
      key: roleName,
      tenantId: null,
      summary: `application role ${roleName} bypasses row-level security (${superuser ? 'superuser' : 'BYPASSRLS'})`,
      details: { role: roleName, superuser, bypassRls },
    }));
  },
};
