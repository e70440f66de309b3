// The first door: a BotTenant applied with kubectl links to its tenant row, or creates it (name from
// spec.displayName, slug from the resource's name). Runs on the platform worker: it holds the
// database, the operator does not. The row's business data is never changed here.
import { sql } from 'slonik';
import { z } from 'zod';
import { tenantSlugCandidates } from '../../core/bot-tenant/tenant-slug.ts';
import type { WithTenant } from '../../core/db/with-tenant.ts';
import type { LinkTenantInput, LinkTenantResult } from '../../core/temporal/bot-tenant.ts';

export class TenantSlugsTakenError extends Error {
  override readonly name = 'TenantSlugsTakenError';
}

/** The tenant was deleted through the API (its tombstone exists): a BotTenant left behind never brings it back. */
export class TenantDeletedError extends Error {
  override readonly name = 'TenantDeletedError';
}

export const createTenantLinkActivities = (deps: { withTenant: WithTenant }) => ({
  async linkTenantRow(input: LinkTenantInput): Promise<LinkTenantResult> {
    return deps.withTenant(input.tenantId, async (tx) => {
      const existing = await tx.maybeOne(sql.type(z.object({ slug: z.string() }))`SELECT slug FROM tenants WHERE id = ${input.tenantId}`);
      if (existing !== null) return { created: false, slug: existing.slug };
      if (await tx.exists(sql.unsafe`SELECT 1 FROM tenant_tombstones WHERE id = ${input.tenantId}`)) {
        throw new TenantDeletedError(`tenant ${input.tenantId} was deleted (docs/tenant-delete.md): delete BotTenant ${input.resourceName}`);
      }
      for (const slug of tenantSlugCandidates(input.resourceName, input.tenantId)) {
        // ON CONFLICT DO NOTHING: a slug another tenant holds is no error, the next candidate is tried.
        const inserted = await tx.maybeOne(sql.type(z.object({ slug: z.string() }))`
          INSERT INTO tenants (id, name, slug) VALUES (${input.tenantId}, ${input.displayName}, ${slug})
          ON CONFLICT DO NOTHING RETURNING slug`);
        if (inserted !== null) return { created: true, slug: inserted.slug };
      }
      throw new TenantSlugsTakenError(`every slug for BotTenant ${input.resourceName} is taken by other tenants`);
    }, { actor: 'operator' });
  },
});

export type TenantLinkActivityFunctions = ReturnType<typeof createTenantLinkActivities>;
