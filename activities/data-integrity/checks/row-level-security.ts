// Tenant isolation rests on RLS: a tenant table without it enabled, forced and with a policy is
// readable across tenants by the application role (or by its owner).
import { sql } from 'slonik';
import { z } from 'zod';
import type { IntegrityCheck } from '../../../core/data-integrity/check.ts';

const row = z.object({ tableName: z.string(), enabled: z.boolean(), forced: z.boolean(), policies: z.number() });

export const rowLevelSecurity: IntegrityCheck = {
  name: 'row-level-security',
  severity: 'critical',
  description: 'Every tenant table (tenants, and every table with a tenant_id column) has row-level security enabled, forced, and a policy.',
  platformOnly: true,
  find: async (tx) => {
    const rows = await tx.any(sql.type(row)`
      SELECT c.oid::regclass::text AS "tableName", c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced,
             (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid)::int AS policies
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
         AND (c.relname = 'tenants'
              OR EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped))
       ORDER BY 1`);
    return rows
      .map(({ tableName, enabled, forced, policies }) => ({
        tableName,
        missing: [!enabled && 'enabled', !forced && 'forced', policies === 0 && 'policy'].filter((gap) => gap !== false),
      }))
      .filter(({ missing }) => missing.length > 0)
      .map(({ tableName, missing }) => ({
        key: tableName,
        tenantId: null,
        summary: `row-level security on ${tableName} lacks: ${missing.join(', ')}`,
        details: { table: tableName, missing },
      }));
  },
};
