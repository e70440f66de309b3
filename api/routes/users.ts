// A tenant's users. Removing one answers what the schema's ON DELETE rules did to its leads and schedules.
import { sql } from 'slonik';
import { z } from 'zod';
import { auditResource } from '../audit.ts';
import type { ApiDeps } from '../deps.ts';
import { HttpProblem } from '../problem.ts';
import type { Registry } from '../route.ts';
import { nameText, tenantParams } from './schemas.ts';
import { patchBody, updateAudited } from './update-row.ts';

const user = z.object({ id: z.uuid(), email: z.string(), name: z.string().nullable(), role: z.enum(['owner', 'admin', 'agent']) });
const userRow = user;
const userParams = z.strictObject({ tenantId: z.uuid(), userId: z.uuid() });
/** The fields a user is written with: create and update validate them alike. */
const userFields = {
  email: z.email().max(254).transform((email) => email.toLowerCase()),
  name: nameText(200),
  role: z.enum(['owner', 'admin', 'agent']),
};

export const registerUserRoutes = (registry: Registry, deps: ApiDeps) => {
  registry.add({
    method: 'get', path: '/tenants/:tenantId/users', summary: 'List a tenant\'s users', tag: 'users', access: 'any', params: tenantParams,
    response: z.object({ items: z.array(user) }),
  }, async ({ params }) => ({
    items: [...await deps.withTenant(params.tenantId, (tx) => tx.any(sql.type(userRow)`
      SELECT id, email, name, role FROM users WHERE tenant_id = ${params.tenantId} ORDER BY created_at, id`))],
  }));

  registry.add({
    method: 'post', path: '/tenants/:tenantId/users', summary: 'Add a user', tag: 'users', access: 'any', params: tenantParams, status: 201,
    body: z.strictObject({ ...userFields, name: userFields.name.optional(), role: userFields.role.default('agent') }),
    response: user,
  }, async ({ request, params, body }) => {
    const actor = `api:${request.principal!.tokenId}`;
    return deps.withTenant(params.tenantId, async (tx) => {
      const created = await tx.one(sql.type(userRow)`
        INSERT INTO users (tenant_id, email, name, role) VALUES (${params.tenantId}, ${body.email}, ${body.name ?? null}, ${body.role})
        RETURNING id, email, name, role`);
      await auditResource(tx, params.tenantId, actor, 'user.created', { userId: created.id, email: created.email, role: created.role });
      return created;
    }, { actor });
  });

  registry.add({
    method: 'patch', path: '/tenants/:tenantId/users/:userId', summary: 'Update a user (the fields given; a null name clears it)', tag: 'users', access: 'any',
    params: userParams, body: patchBody({ ...userFields, name: userFields.name.nullable() }), response: user,
  }, async ({ request, params, body }) => {
    const actor = `api:${request.principal!.tokenId}`;
    return deps.withTenant(params.tenantId, (tx) => updateAudited(tx, {
      tenantId: params.tenantId, actor, action: 'user.updated', subject: { userId: params.userId }, what: 'user',
      table: 'users', row: userRow, columns: sql.fragment`id, email, name, role`, where: sql.fragment`tenant_id = ${params.tenantId} AND id = ${params.userId}`,
      body, fieldColumns: { email: 'email', name: 'name', role: 'role' }, view: (found) => found,
    }), { actor });
  });

  registry.add({
    method: 'delete', path: '/tenants/:tenantId/users/:userId', summary: 'Remove a user and report what it left', tag: 'users', access: 'any',
    params: userParams,
    response: z.object({ userId: z.uuid(), unassigned: z.object({ leadsOwned: z.number(), leadsAssigned: z.number(), schedulesCreated: z.number() }) }),
  }, async ({ request, params }) => deps.withTenant(params.tenantId, async (tx) => {
    const counts = await tx.maybeOne(sql.type(z.object({ leadsOwned: z.number(), leadsAssigned: z.number(), schedulesCreated: z.number() }))`
      SELECT (SELECT count(*)::int FROM leads WHERE tenant_id = u.tenant_id AND owner_user_id = u.id) AS "leadsOwned",
             (SELECT count(*)::int FROM leads WHERE tenant_id = u.tenant_id AND assigned_to_user_id = u.id) AS "leadsAssigned",
             (SELECT count(*)::int FROM schedules WHERE tenant_id = u.tenant_id AND created_by_user_id = u.id) AS "schedulesCreated"
      FROM users u WHERE u.tenant_id = ${params.tenantId} AND u.id = ${params.userId} FOR UPDATE`);
    if (!counts) throw new HttpProblem(404, 'Not found', 'no such user');
    // ON DELETE SET NULL: the leads and schedules stay, without this user.
    await tx.query(sql.unsafe`DELETE FROM users WHERE tenant_id = ${params.tenantId} AND id = ${params.userId}`);
    return { userId: params.userId, unassigned: counts };
  }, { actor: `api:${request.principal!.tokenId}` }));
};
