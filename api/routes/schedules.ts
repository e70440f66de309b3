// A bot's schedules: cron in a time zone, with the action to run.
import { sql } from 'slonik';
import { z } from 'zod';
import type { ApiDeps } from '../deps.ts';
import { HttpProblem } from '../problem.ts';
import type { Registry } from '../route.ts';
import { scheduleActionSchema } from '../../core/schedules/action.ts';
import { requireBot } from './require-bot.ts';
import { botParams, nameText, TIME_ZONES } from './schemas.ts';

// Five cron fields (minute hour day-of-month month day-of-week); each a *, number, range, list or step.
const CRON_FIELD = '(\\*|\\d{1,2}(-\\d{1,2})?)(/\\d{1,2})?(,(\\*|\\d{1,2}(-\\d{1,2})?)(/\\d{1,2})?)*';
const CRON = new RegExp(`^${CRON_FIELD}( ${CRON_FIELD}){4}$`);
const CRON_LIMITS = [59, 23, 31, 12, 7];
const cronInRange = (cron: string) => cron.split(' ').every((field, index) => (field.match(/\d+/g) ?? []).every((n) => Number(n) <= CRON_LIMITS[index]!));

const schedule = z.object({
  id: z.uuid(), name: z.string(), cron: z.string(), timezone: z.string(), action: z.record(z.string(), z.unknown()), enabled: z.boolean(),
});
const scheduleRow = schedule;

export const registerScheduleRoutes = (registry: Registry, deps: ApiDeps) => {
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
      action: scheduleActionSchema,
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
