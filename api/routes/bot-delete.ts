// Bot delete, leads and all, with a dry run first (`?dryRun=true`: the same counts, nothing removed).
// One transaction removes the rows; after the commit the objects those rows named are deleted and
// the bot's Temporal Schedules are synced away. A bot with leads must be archived first: its pod has
// then stopped answering, so no message of it is ingested while its rows go. Session files stay
// where the pod keeps them (docs/api.md).
import { sql } from 'slonik';
import { z } from 'zod';
import { deleteObjectKeysReportingLeft } from '../../core/delete-objects.ts';
import type { ApiDeps } from '../deps.ts';
import { HttpProblem } from '../problem.ts';
import type { Registry } from '../route.ts';
import { requestScheduleSync } from '../schedule-sync.ts';
import { deleteBotRows, planBotDelete, type BotDeletePlan } from './bot-delete-plan.ts';
import { botParams } from './schemas.ts';

const report = z.object({
  botId: z.uuid(),
  dryRun: z.boolean(),
  deleted: z.object({
    leads: z.number().int(), messages: z.number().int(), products: z.number().int(), images: z.number().int(), scoringRules: z.number().int(),
    schedules: z.number().int(),
  }).describe('the main counts (on a dry run: what would be deleted)'),
  rows: z.record(z.string(), z.number().int()).describe('rows per table, every table the delete reaches'),
  objects: z.object({ count: z.number().int(), keys: z.array(z.string()) }).describe('objects in the bucket: catalog images and message media'),
  objectsNotDeleted: z.array(z.string()).describe('objects the store refused to delete after the commit (the integrity run reports them as orphans)'),
});

const toReport = (botId: string, dryRun: boolean, plan: BotDeletePlan, objectsNotDeleted: string[]) => {
  const { rows } = plan;
  return {
    botId, dryRun, rows, objects: { count: plan.objectKeys.length, keys: plan.objectKeys }, objectsNotDeleted,
    deleted: {
      leads: rows.leads!, messages: rows.lead_messages!, products: rows.products!, images: rows.bot_images!, scoringRules: rows.scoring_rules!,
      schedules: rows.schedules!,
    },
  };
};

export const registerBotDeleteRoutes = (registry: Registry, deps: ApiDeps) => {
  registry.add({
    method: 'delete', path: '/tenants/:tenantId/bots/:botId', summary: 'Delete a bot with its leads, catalog, schedules and objects; dryRun=true reports what would go',
    tag: 'bots', access: 'any', params: botParams,
    query: z.strictObject({ dryRun: z.enum(['true', 'false']).default('false').transform((value) => value === 'true') }),
    response: report, problems: { 409: 'the bot has leads and is still active: archive it first' },
  }, async ({ request, params, query }) => {
    const { tenantId, botId } = params;
    const actor = `api:${request.principal!.tokenId}`;
    const plan = await deps.withTenant(tenantId, async (tx) => {
      const status = await tx.maybeOneFirst(sql.type(z.object({ status: z.string() }))`
        SELECT status FROM bots WHERE tenant_id = ${tenantId} AND id = ${botId} FOR UPDATE`);
      if (status === null) throw new HttpProblem(404, 'Not found', 'no such bot');
      // Counted in the transaction that deletes, so the report is exactly what went.
      const planned = await planBotDelete(tx, tenantId, botId);
      if (query.dryRun) return planned;
      if (status === 'active' && planned.rows.leads! > 0) {
        throw new HttpProblem(409, 'Bot still active', `the bot has ${planned.rows.leads} leads and is active: archive it first, so its pod stops answering`);
      }
      await deleteBotRows(tx, tenantId, botId);
      await tx.query(sql.unsafe`
        INSERT INTO audit_logs (tenant_id, actor, action, details)
        VALUES (${tenantId}, ${actor}, 'bot.deleted', ${sql.jsonb({ botId, rows: planned.rows, objects: planned.objectKeys.length })})`);
      return planned;
    }, { actor });
    if (query.dryRun) return toReport(botId, true, plan, []);
    // The rows are gone already, so a refusal is reported, not thrown.
    const objectsNotDeleted = await deleteObjectKeysReportingLeft({ s3: deps.s3, bucket: deps.config.s3.bucket }, plan.objectKeys);
    // Each sync finds its row gone and deletes the Schedule.
    await Promise.all(plan.scheduleIds.map((scheduleId) => requestScheduleSync(deps, { tenantId, scheduleId })));
    return toReport(botId, false, plan, objectsNotDeleted);
  });
};
