// A bot's schedules: cron in a time zone, with the action to run. Every write is audited and, once
// committed, synced to the row's Temporal Schedule (see docs/schedules.md).
import { sql } from 'slonik';
import { z } from 'zod';
import type { TenantTransaction } from '../../core/db/with-tenant.ts';
import type { ApiDeps } from '../deps.ts';
import { HttpProblem } from '../problem.ts';
import { requestScheduleSync } from '../schedule-sync.ts';
import type { Registry } from '../route.ts';
import { scheduleActionSchema } from '../../core/schedules/action.ts';
import { requireBot } from './require-bot.ts';
import { requireScheduleAction } from './require-schedule-action.ts';
import { botParams, nameText, TIME_ZONES } from './schemas.ts';
import { patchBody } from './update-row.ts';

// Five cron fields (minute hour day-of-month month day-of-week); each a *, number, range, list or step.
const CRON_FIELD = '(\\*|\\d{1,2}(-\\d{1,2})?)(/\\d{1,2})?(,(\\*|\\d{1,2}(-\\d{1,2})?)(/\\d{1,2})?)*';
const CRON = new RegExp(`^${CRON_FIELD}( ${CRON_FIELD}){4}$`);
const CRON_LIMITS = [59, 23, 31, 12, 7];
const cronInRange = (cron: string) => cron.split(' ').every((field, index) => (field.match(/\d+/g) ?? []).every((n) => Number(n) <= CRON_LIMITS[index]!));

const schedule = z.object({
  id: z.uuid(), name: z.string(), cron: z.string(), timezone: z.string(), action: z.record(z.string(), z.unknown()), enabled: z.boolean(),
});
const scheduleRow = schedule;
const COLUMNS = sql.fragment`id, name, cron, timezone, action, enabled`;
const scheduleParams = z.strictObject({ tenantId: z.uuid(), botId: z.uuid(), scheduleId: z.uuid() });

/** The fields a schedule is written with: create and update validate them alike. */
const scheduleFields = {
  name: nameText(200),
  cron: z.string().regex(CRON, 'five cron fields: minute hour day month weekday').refine(cronInRange, 'a cron field is out of its range'),
  timezone: z.enum(TIME_ZONES),
  action: scheduleActionSchema,
  enabled: z.boolean(),
};

const audit = (tx: TenantTransaction, tenantId: string, actor: string, action: string, details: Record<string, string | string[]>) => tx.query(sql.unsafe`
  INSERT INTO audit_logs (tenant_id, actor, action, details) VALUES (${tenantId}, ${actor}, ${action}, ${sql.jsonb(details)})`);

export const registerScheduleRoutes = (registry: Registry, deps: ApiDeps) => {
  registry.add({
    method: 'get', path: '/tenants/:tenantId/bots/:botId/schedules', summary: 'List a bot\'s schedules', tag: 'schedules', access: 'any', params: botParams,
    response: z.object({ items: z.array(schedule) }),
  }, async ({ params }) => deps.withTenant(params.tenantId, async (tx) => {
    await requireBot(tx, params.tenantId, params.botId);
    return { items: [...await tx.any(sql.type(scheduleRow)`
      SELECT ${COLUMNS} FROM schedules WHERE tenant_id = ${params.tenantId} AND bot_id = ${params.botId} ORDER BY created_at, id`)] };
  }));

  registry.add({
    method: 'post', path: '/tenants/:tenantId/bots/:botId/schedules', summary: 'Create a schedule (cron in the given time zone)', tag: 'schedules', access: 'any',
    params: botParams, status: 201,
    body: z.strictObject({ ...scheduleFields, timezone: scheduleFields.timezone.default('UTC'), enabled: scheduleFields.enabled.default(true) }),
    response: schedule,
  }, async ({ request, params, body }) => {
    const actor = `api:${request.principal!.tokenId}`;
    const created = await deps.withTenant(params.tenantId, async (tx) => {
      await requireBot(tx, params.tenantId, params.botId);
      await requireScheduleAction(tx, params.tenantId, body.action, deps.config.schedules.followUp.maxRatePerMinute);
      const row = await tx.one(sql.type(scheduleRow)`
        INSERT INTO schedules (tenant_id, bot_id, name, cron, timezone, action, enabled)
        VALUES (${params.tenantId}, ${params.botId}, ${body.name}, ${body.cron}, ${body.timezone}, ${sql.jsonb(body.action)}, ${body.enabled})
        RETURNING ${COLUMNS}`);
      await audit(tx, params.tenantId, actor, 'schedule.created', { scheduleId: row.id, botId: params.botId });
      return row;
    }, { actor });
    await requestScheduleSync(deps, { tenantId: params.tenantId, scheduleId: created.id });
    return created;
  });

  registry.add({
    method: 'patch', path: '/tenants/:tenantId/bots/:botId/schedules/:scheduleId', summary: 'Update a schedule (the fields given)', tag: 'schedules', access: 'any',
    params: scheduleParams,
    body: patchBody(scheduleFields),
    response: schedule,
  }, async ({ request, params, body }) => {
    const actor = `api:${request.principal!.tokenId}`;
    const updated = await deps.withTenant(params.tenantId, async (tx) => {
      const row = await tx.maybeOne(sql.type(scheduleRow)`
        UPDATE schedules SET
          name = coalesce(${body.name ?? null}, name),
          cron = coalesce(${body.cron ?? null}, cron),
          timezone = coalesce(${body.timezone ?? null}, timezone),
          action = coalesce(${body.action === undefined ? null : sql.jsonb(body.action)}, action),
          enabled = coalesce(${body.enabled ?? null}, enabled)
        WHERE tenant_id = ${params.tenantId} AND bot_id = ${params.botId} AND id = ${params.scheduleId}
        RETURNING ${COLUMNS}`);
      if (!row) throw new HttpProblem(404, 'Not found', 'no such schedule');
      // After the update, so another tenant's schedule is a 404 whatever the action; a refusal rolls it back.
      if (body.action !== undefined) await requireScheduleAction(tx, params.tenantId, body.action, deps.config.schedules.followUp.maxRatePerMinute);
      await audit(tx, params.tenantId, actor, 'schedule.updated', { scheduleId: row.id, botId: params.botId, fields: Object.keys(body).sort() });
      return row;
    }, { actor });
    await requestScheduleSync(deps, { tenantId: params.tenantId, scheduleId: updated.id });
    return updated;
  });

  registry.add({
    method: 'delete', path: '/tenants/:tenantId/bots/:botId/schedules/:scheduleId', summary: 'Delete a schedule', tag: 'schedules', access: 'any',
    params: scheduleParams,
    response: z.object({ scheduleId: z.uuid(), deleted: z.literal(true) }),
  }, async ({ request, params }) => {
    const actor = `api:${request.principal!.tokenId}`;
    await deps.withTenant(params.tenantId, async (tx) => {
      const deleted = await tx.maybeOne(sql.unsafe`
        DELETE FROM schedules WHERE tenant_id = ${params.tenantId} AND bot_id = ${params.botId} AND id = ${params.scheduleId} RETURNING id`);
      if (!deleted) throw new HttpProblem(404, 'Not found', 'no such schedule');
      await audit(tx, params.tenantId, actor, 'schedule.deleted', { scheduleId: params.scheduleId, botId: params.botId });
    }, { actor });
    await requestScheduleSync(deps, { tenantId: params.tenantId, scheduleId: params.scheduleId });
    return { scheduleId: params.scheduleId, deleted: true as const };
  });
};
