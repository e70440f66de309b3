// Tenants: platform admins list and create them; a tenant admin reads its own.
import { randomUUID } from 'node:crypto';
import { sql } from 'slonik';
import { z } from 'zod';
import { BotTenantNameTakenError } from '../../core/kubernetes/pod-runtime.ts';
import { HttpProblem } from '../problem.ts';
import type { ApiDeps } from '../deps.ts';
import type { Registry } from '../route.ts';
import { nameText, tenantParams, tenantSettingsSchema } from './schemas.ts';
import { patchBody, updateAudited } from './update-row.ts';

const tenant = z.object({ id: z.uuid(), name: z.string(), slug: z.string(), settings: z.record(z.string(), z.unknown()), createdAt: z.string() });
const tenantRow = z.object({ id: z.uuid(), name: z.string(), slug: z.string(), settings: z.record(z.string(), z.unknown()), created_at: z.number() });
const toTenant = (row: z.infer<typeof tenantRow>) => ({ id: row.id, name: row.name, slug: row.slug, settings: row.settings, createdAt: new Date(row.created_at).toISOString() });
const TENANT_COLUMNS = sql.fragment`id, name, slug, settings, created_at`;

/** The fields a tenant is written with: create and update validate them alike. */
const tenantFields = {
  name: nameText(200),
  slug: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'lower-case letters, digits and dashes'),
  settings: tenantSettingsSchema,
};

export const registerTenantRoutes = (registry: Registry, deps: ApiDeps) => {
  registry.add({
    method: 'get', path: '/tenants', summary: 'List tenants', tag: 'tenants', access: 'platform-admin',
    response: z.object({ items: z.array(tenant) }),
  }, async () => ({
    // The one cross-tenant read: the maintenance role (BYPASSRLS, read-only here) for platform admins.
    items: (await deps.pools.maintenance.any(sql.type(tenantRow)`SELECT id, name, slug, settings, created_at FROM tenants ORDER BY created_at, id LIMIT 1000`)).map(toTenant),
  }));

  registry.add({
    method: 'post', path: '/tenants', summary: 'Create a tenant', tag: 'tenants', access: 'platform-admin', status: 201,
    body: z.strictObject({ ...tenantFields, settings: tenantFields.settings.default({}) }),
    response: tenant,
  }, async ({ request, body }) => {
    const id = randomUUID();
    const actor = `api:${request.principal!.tokenId}`;
    const row = await deps.withTenant(id, async (tx) => {
      const inserted = await tx.one(sql.type(tenantRow)`
        INSERT INTO tenants (id, name, slug, settings) VALUES (${id}, ${body.name}, ${body.slug}, ${sql.jsonb(body.settings)})
        RETURNING id, name, slug, settings, created_at`);
      // The second door to a BotTenant (kubectl apply is the first), before the row commits: if the
      // cluster refuses, nothing is created. A commit that fails after it leaves a BotTenant the
      // operator links to a new row of the same id (docs/operator.md), so nothing is lost either way.
      await deps.podRuntime?.ensurePod({ tenantId: id, slug: body.slug, displayName: body.name }).catch((error: unknown) => {
        if (!(error instanceof BotTenantNameTakenError)) throw error;
        throw new HttpProblem(409, 'Conflict', `slug ${body.slug} names another tenant's BotTenant in the cluster; choose another slug`);
      });
      return inserted;
    }, { actor });
    // A platform action (tenant NULL), as its delete is: it outlives the tenant's own rows. Not the
    // name: it may be a person's (docs/tenant-delete.md).
    await deps.pools.maintenance.query(sql.unsafe`
      INSERT INTO audit_logs (tenant_id, actor, action, details) VALUES (NULL, ${actor}, 'tenant.created', ${sql.jsonb({ tenantId: id, slug: body.slug })})`);
    return toTenant(row);
  });

  registry.add({
    method: 'get', path: '/tenants/:tenantId', summary: 'Read a tenant', tag: 'tenants', access: 'any', params: tenantParams, response: tenant,
  }, async ({ params }) => {
    const { tenantId } = params;
    const row = await deps.withTenant(tenantId, (tx) => tx.maybeOne(sql.type(tenantRow)`SELECT id, name, slug, settings, created_at FROM tenants WHERE id = ${tenantId}`));
    if (!row) throw new HttpProblem(404, 'Not found', 'no such tenant');
    return toTenant(row);
  });

  registry.add({
    method: 'patch', path: '/tenants/:tenantId', summary: 'Update a tenant (the fields given; settings are replaced whole)', tag: 'tenants',
    access: 'platform-admin', params: tenantParams,
    // The slug stays: it names the tenant's BotTenant and its pod in the cluster.
    body: patchBody({ name: tenantFields.name, settings: tenantFields.settings }),
    response: tenant,
  }, async ({ request, params, body }) => {
    const { tenantId } = params;
    const actor = `api:${request.principal!.tokenId}`;
    const row = await deps.withTenant(tenantId, (tx) => updateAudited(tx, {
      tenantId, actor, action: 'tenant.updated', subject: { tenantId }, what: 'tenant',
      table: 'tenants', row: tenantRow, columns: TENANT_COLUMNS, where: sql.fragment`id = ${tenantId}`,
      body, fieldColumns: { name: 'name', settings: 'settings' }, view: (found) => ({ name: found.name, settings: found.settings }),
    }), { actor });
    return toTenant(row);
  });
};
