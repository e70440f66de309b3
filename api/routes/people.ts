// A tenant's users and its bots' schedules. Deletes answer what the schema's ON DELETE rules did.
import { sql } from 'slonik';
import { z } from 'zod';
import type { ApiDeps } from '../deps.ts';
import { HttpProblem } from '../problem.ts';
import type { Registry } from '../route.ts';
import { requireBot } from './require-bot.ts';
import { botParams, nameText, tenantParams, TIME_ZONES } from './schemas.ts';

const user = z.object({ id: z.uuid(), email: z.string(), name: z.string().nullable(), role: z.enum(['owner', 'admin', 'agent']) });
const userRow = user;
const userParams = z.strictObject({ tenantId: z.uuid(), userId: z.uuid() });

// Five cron fields (minute hour day-of-month month day-of-week); each a *, number, range, list or step.
const CRON_FIELD = '(\\*|\\d{1,2}(-\\d{1,2})?)(/\\d{1,2})?(,(\\*|\\d{1,2}(-\\d{1,2})?)(/\\d{1,2})?)*';
const CRON = new RegExp(`^${CRON_FIELD}( ${CRON_FIELD}){4}$`);
const CRON_LIMITS = [59, 23, 31, 12, 7];
const cronInRange = (cron: string) => cron.split(' ').every((field, index) => (field.match(/\d+/g) ?? []).every((n) => Number(n) <= CRON_LIMITS[index]!));

const action = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('follow_up'), message: nameText(1000).optional() }),
  z.strictObject({ type: z.literal('broadcast'), message: nameText(1000) }),
]);
const schedule = z.object({
  id: z.uuid(), name: z.string(), cron: z.string(), timezone: z.string(), action: z.record(z.string(), z.unknown()), enabled: z.boolean(),
});
const scheduleRow = schedule;

export const registerPeopleRoutes = (registry: Registry, deps: ApiDeps) => {
  registry.add({
    method: 'get', path: '/tenants/:tenantId/users', summary: 'List a tenant\'s users', tag: 'users', access: 'any', params: tenantParams,
    response: z.object({ items: z.array(user) }),
  }, async ({ params }) => ({
    items: [...await deps.withTenant(params.tenantId, (tx) => tx.any(sql.type(userRow)`
      SELECT id, email, name, role FROM users WHERE tenant_id = ${params.tenantId} ORDER BY created_at, id`))],
  }));

  registry.add({
    method: 'post', path: '/tenants/:tenantId/users', summary: 'Add a user', tag: 'users', access: 'any', params: tenantParams, status: 201,
    body: z.strictObject({
      email: z.email().max(254).transform((email) => email.toLowerCase()),
      name: nameText(200).optional(),
      role: z.enum(['owner', 'admin', 'agent']).default('agent'),
    }),
    response: user,
  }, async ({ request, params, body }) => deps.withTenant(params.tenantId, (tx) => tx.one(sql.type(userRow)`
    INSERT INTO users (tenant_id, email, name, role) VALUES (${params.tenantId}, ${body.email}, ${body.name ?? null}, ${body.role})
    RETURNING id, email, name, role`), { actor: `api:${request.principal!.tokenId}` }));

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

  registry.add({
    method: 'get', path: '/tenants/:tenantId/bots/:botId/schedules', summary: 'List a bot\'s schedules', tag: 'schedules', access: 'any', params: botParams,
    response: z.object({ items: z.array(schedule) }),
  }, async ({ params }) => deps.withTenant(params.tenantId, async (tx) => {
    await requireBot(tx, params.tenantId, params.botId);
    return { items: [...await tx.any(sql.type(scheduleRow)`
      SELECT id, name, cron, timezone, action, enabled FROM schedules WHERE tenant_id = ${params.tenantId} AND bot_id = ${params.botId} ORDER BY created_at, id`)] };
  }));

  registry.add({
    method: 'post', path: '/tenants/:tenantId/bots/:botId/schedules', summary: 'Create a schedule (cron in the given time zone)', tag: 'schedules', access: 'any',
    params: botParams, status: 201,
    body: z.strictObject({
      name: nameText(200),
      cron: z.string().regex(CRON, 'five cron fields: minute hour day month weekday').refine(cronInRange, 'a cron field is out of its range'),
      timezone: z.enum(TIME_ZONES).default('UTC'),
      action,
      enabled: z.boolean().default(true),
    }),
    response: schedule,
  }, async ({ request, params, body }) => deps.withTenant(params.tenantId, async (tx) => {
    await requireBot(tx, params.tenantId, params.botId);
    return tx.one(sql.type(scheduleRow)`
      INSERT INTO schedules (tenant_id, bot_id, name, cron, timezone, action, enabled)
      VALUES (${params.tenantId}, ${params.botId}, ${body.name}, ${body.cron}, ${body.timezone}, ${sql.jsonb(body.action)}, ${body.enabled})
      RETURNING id, name, cron, timezone, action, enabled`);
  }, { actor: `api:${request.principal!.tokenId}` }));

  registry.add({
    method: 'delete', path: '/tenants/:tenantId/bots/:botId/schedules/:scheduleId', summary: 'Delete a schedule', tag: 'schedules', access: 'any',
    params: z.strictObject({ tenantId: z.uuid(), botId: z.uuid(), scheduleId: z.uuid() }),
    response: z.object({ scheduleId: z.uuid(), deleted: z.literal(true) }),
  }, async ({ request, params }) => deps.withTenant(params.tenantId, async (tx) => {
    const deleted = await tx.maybeOne(sql.unsafe`
      DELETE FROM schedules WHERE tenant_id = ${params.tenantId} AND bot_id = ${params.botId} AND id = ${params.scheduleId} RETURNING id`);
    if (!deleted) throw new HttpProblem(404, 'Not found', 'no such schedule');
    return { scheduleId: params.scheduleId, deleted: true as const };
  }, { actor: `api:${request.principal!.tokenId}` }));
};
