// Bots of a tenant and their scoring rules (validated as the scoring engine defines: compiled by
// RE2, length and count limits; the whole set replaced in one transaction).
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'slonik';
import { z } from 'zod';
import { scoringRuleSchema, validateScoringRules } from '../../core/scoring/rules.ts';
import { tenantSearchAttributes } from '../../core/temporal/search-attributes.ts';
import type * as workflows from '../../workflows/index.ts';
import { auditResource } from '../audit.ts';
import type { ApiDeps } from '../deps.ts';
import type { Registry } from '../route.ts';
import { requireBot } from './require-bot.ts';
import { botParams, e164, nameText, tenantParams } from './schemas.ts';
import { patchBody, updateAudited } from './update-row.ts';

const bot = z.object({
  id: z.uuid(), name: z.string(), phoneE164: z.string().nullable(), status: z.string(), qualificationThreshold: z.number().int(), createdAt: z.string(),
});
const botRow = z.object({
  id: z.uuid(), name: z.string(), phone_e164: z.string().nullable(), status: z.string(), qualification_threshold: z.number(), created_at: z.number(),
});
const toBot = (row: z.infer<typeof botRow>) => ({
  id: row.id, name: row.name, phoneE164: row.phone_e164, status: row.status, qualificationThreshold: row.qualification_threshold, createdAt: new Date(row.created_at).toISOString(),
});
const BOT_COLUMNS = sql.fragment`id, name, phone_e164, status, qualification_threshold, created_at`;
/** The fields a bot is written with: create and update validate them alike. */
const botFields = { name: nameText(200), phoneE164: e164, qualificationThreshold: z.number().int().min(0).max(1000) };
const rule = scoringRuleSchema.extend({ id: z.uuid(), tag: z.string().nullable(), active: z.boolean() });
// The document shows a rule's shape; the body is still validated by the scoring engine, which names the rule at fault (422).
const ruleDocument = Object.fromEntries(Object.entries(z.toJSONSchema(scoringRuleSchema, { io: 'input' })).filter(([key]) => key !== '$schema'));
const ruleRow = z.object({ id: z.uuid(), kind: z.enum(['keyword', 'phrase', 'regex']), pattern: z.string(), weight: z.number(), tag: z.string().nullable(), active: z.boolean() });

/** How long the status route waits for the pod's answer: beyond its activity's 3 s to start and a short reply. */
const STATUS_WAIT_MS = 6_000;

export const registerBotRoutes = (registry: Registry, deps: ApiDeps) => {
  registry.add({
    method: 'get', path: '/tenants/:tenantId/bots', summary: 'List a tenant\'s bots', tag: 'bots', access: 'any', params: tenantParams,
    response: z.object({ items: z.array(bot) }),
  }, async ({ params }) => {
    const { tenantId } = params;
    const rows = await deps.withTenant(tenantId, (tx) => tx.any(sql.type(botRow)`
      SELECT id, name, phone_e164, status, qualification_threshold, created_at FROM bots WHERE tenant_id = ${tenantId} ORDER BY created_at, id`));
    return { items: rows.map(toBot) };
  });

  registry.add({
    method: 'post', path: '/tenants/:tenantId/bots', summary: 'Create a bot', tag: 'bots', access: 'any', params: tenantParams, status: 201,
    body: z.strictObject({ ...botFields, phoneE164: botFields.phoneE164.optional(), qualificationThreshold: botFields.qualificationThreshold.optional() }),
    response: bot,
  }, async ({ request, params, body }) => {
    const { tenantId } = params;
    const actor = `api:${request.principal!.tokenId}`;
    return deps.withTenant(tenantId, async (tx) => {
      const created = toBot(await tx.one(sql.type(botRow)`
        INSERT INTO bots (tenant_id, name, phone_e164, qualification_threshold)
        VALUES (${tenantId}, ${body.name}, ${body.phoneE164 ?? null}, ${body.qualificationThreshold ?? 70})
        RETURNING id, name, phone_e164, status, qualification_threshold, created_at`));
      const { id: botId, name, phoneE164, qualificationThreshold } = created;
      await auditResource(tx, tenantId, actor, 'bot.created', { botId, name, phoneE164, qualificationThreshold });
      return created;
    }, { actor });
  });

  registry.add({
    method: 'patch', path: '/tenants/:tenantId/bots/:botId', summary: 'Update a bot (the fields given; a null phone clears it)', tag: 'bots', access: 'any',
    params: botParams,
    // Not the threshold: its change re-qualifies the bot's leads and notifies their owners, through
    // POST .../qualification-threshold (a workflow).
    body: patchBody({ name: botFields.name, phoneE164: botFields.phoneE164.nullable() }),
    response: bot,
  }, async ({ request, params, body }) => {
    const { tenantId, botId } = params;
    const actor = `api:${request.principal!.tokenId}`;
    const row = await deps.withTenant(tenantId, (tx) => updateAudited(tx, {
      tenantId, actor, action: 'bot.updated', subject: { botId }, what: 'bot',
      table: 'bots', row: botRow, columns: BOT_COLUMNS, where: sql.fragment`tenant_id = ${tenantId} AND id = ${botId}`,
      body, fieldColumns: { name: 'name', phoneE164: 'phone_e164' }, view: toBot,
    }), { actor });
    return toBot(row);
  });

  registry.add({
    method: 'get', path: '/tenants/:tenantId/bots/:botId/status', summary: 'A bot\'s WhatsApp connection state and pairing QR, from its bot pod',
    tag: 'bots', access: 'any', params: botParams,
    response: z.object({
      botId: z.uuid(), state: z.enum(['connecting', 'open', 'needs_pairing', 'closed', 'unreachable']), lastError: z.string().nullable(),
      qrDataUrl: z.string().nullable(), updatedAt: z.string().nullable(),
    }),
  }, async ({ params }) => {
    const botStatus = await deps.withTenant(params.tenantId, (tx) => requireBot(tx, params.tenantId, params.botId));
    // A pod runs active bots only: asking it about another would read as a pod that did not answer.
    if (botStatus !== 'active') {
      return { botId: params.botId, state: 'closed' as const, lastError: `the bot is ${botStatus}: its bot pod runs active bots only`, qrDataUrl: null, updatedAt: null };
    }
    // Only the pod holds the socket: a short workflow asks it, and a pod that does not answer is reported as such.
    // Temporal away fails the start: a 503 (the problem handler). Once it took the start, anything
    // short of an answer (timeout, a long poll cut off) is a pod that did not answer.
    const handle = await (await deps.temporal()).workflow.start<typeof workflows.readBotStatus>('readBotStatus', {
      workflowId: `api/${params.tenantId}/bot-status/${randomUUID()}`, taskQueue: deps.config.temporal.taskQueue,
      args: [{ tenantId: params.tenantId, botId: params.botId }], workflowExecutionTimeout: '15 seconds',
      typedSearchAttributes: tenantSearchAttributes({ tenantId: params.tenantId, botId: params.botId }),
    });
    // Bounded here too: the workflow may wait for a busy worker, and a client should not wait 15 s for "no answer".
    const waited = new AbortController();
    const statuses = await Promise.race([
      handle.result().catch(() => null),
      sleep(STATUS_WAIT_MS, null, { signal: waited.signal }),
    ]).finally(() => waited.abort());
    const status = statuses?.[0];
    return status ?? { botId: params.botId, state: 'unreachable' as const, lastError: 'the tenant\'s bot pod did not answer', qrDataUrl: null, updatedAt: null };
  });

  registry.add({
    method: 'get', path: '/tenants/:tenantId/bots/:botId/scoring-rules', summary: 'List a bot\'s scoring rules', tag: 'scoring rules', access: 'any',
    params: botParams, response: z.object({ items: z.array(rule) }),
  }, async ({ params }) => {
    const { tenantId } = params;
    return deps.withTenant(tenantId, async (tx) => {
      await requireBot(tx, tenantId, params.botId);
      return { items: [...await tx.any(sql.type(ruleRow)`
        SELECT id, kind, pattern, weight, tag, active FROM scoring_rules WHERE tenant_id = ${tenantId} AND bot_id = ${params.botId} ORDER BY created_at, id`)] };
    });
  });

  registry.add({
    method: 'put', path: '/tenants/:tenantId/bots/:botId/scoring-rules', summary: 'Replace a bot\'s scoring rules', tag: 'scoring rules', access: 'any',
    params: botParams,
    // Validated by the scoring engine itself, which names the rule at fault.
    body: z.strictObject({ rules: z.array(z.unknown().meta(ruleDocument)) }),
    response: z.object({ items: z.array(rule) }),
  }, async ({ request, params, body }) => {
    const { tenantId } = params;
    const rules = validateScoringRules(body.rules);
    return deps.withTenant(tenantId, async (tx) => {
      await requireBot(tx, tenantId, params.botId);
      await tx.query(sql.unsafe`DELETE FROM scoring_rules WHERE tenant_id = ${tenantId} AND bot_id = ${params.botId}`);
      const items = [];
      for (const candidate of rules) {
        items.push(await tx.one(sql.type(ruleRow)`
          INSERT INTO scoring_rules (tenant_id, bot_id, kind, pattern, weight, tag, active, created_at)
          VALUES (${tenantId}, ${params.botId}, ${candidate.kind}, ${candidate.pattern}, ${candidate.weight}, ${candidate.tag ?? null}, ${candidate.active},
                  clock_timestamp()) -- the order given is the order kept
          RETURNING id, kind, pattern, weight, tag, active`));
      }
      return { items };
    }, { actor: `api:${request.principal!.tokenId}` });
  });
};
