// Leads of a tenant: a filtered list with keyset (cursor) pagination, one lead, its messages.
import { sql } from 'slonik';
import { z } from 'zod';
import { MESSAGE_KINDS } from '../../core/lead-conversation/message-kinds.ts';
import { HttpProblem } from '../problem.ts';
import type { ApiDeps } from '../deps.ts';
import type { Registry } from '../route.ts';
import { CREATED_US, keysetPage, olderThan } from './keyset-page.ts';
import { cursorSchema, leadParams, searchText, tenantParams } from './schemas.ts';

export const lead = z.object({
  id: z.uuid(), botId: z.uuid(), waId: z.string(), phoneE164: z.string().nullable(), name: z.string().nullable(), email: z.string().nullable(),
  company: z.string().nullable(), score: z.number(), isQualified: z.boolean(), tags: z.array(z.string()), stageId: z.uuid().nullable(),
  ownerUserId: z.uuid().nullable(), assignedToUserId: z.uuid().nullable(), createdAt: z.string(), lastMessageAt: z.string().nullable(),
});
export const leadRow = z.object({
  id: z.uuid(), bot_id: z.uuid(), wa_id: z.string(), phone_e164: z.string().nullable(), name: z.string().nullable(), email: z.string().nullable(),
  company: z.string().nullable(), score: z.number(), is_qualified: z.boolean(), tags: z.array(z.string()), stage_id: z.uuid().nullable(),
  owner_user_id: z.uuid().nullable(), assigned_to_user_id: z.uuid().nullable(), created_at: z.number(), last_message_at: z.number().nullable(), created_us: z.string(),
});
export const toLead = (row: z.infer<typeof leadRow>) => ({
  id: row.id, botId: row.bot_id, waId: row.wa_id, phoneE164: row.phone_e164, name: row.name, email: row.email, company: row.company,
  score: row.score, isQualified: row.is_qualified, tags: row.tags, stageId: row.stage_id, ownerUserId: row.owner_user_id, assignedToUserId: row.assigned_to_user_id,
  createdAt: new Date(row.created_at).toISOString(), lastMessageAt: row.last_message_at === null ? null : new Date(row.last_message_at).toISOString(),
});
export const LEAD_COLUMNS = sql.fragment`id, bot_id, wa_id, phone_e164, name, email, company, score, is_qualified, tags, stage_id, owner_user_id,
  assigned_to_user_id, created_at, last_message_at, ${CREATED_US}`;
const message = z.object({
  id: z.uuid(), direction: z.enum(['inbound', 'outbound']), kind: z.enum(MESSAGE_KINDS), waMessageId: z.string(), body: z.string(), createdAt: z.string(),
});
const messageRow = z.object({
  id: z.uuid(), direction: z.enum(['inbound', 'outbound']), kind: z.enum(MESSAGE_KINDS), wa_message_id: z.string(), body: z.string(), created_at: z.number(),
});

const leadListFilter = z.strictObject({
  botId: z.uuid().optional(),
  stageId: z.uuid().optional(),
  qualified: z.enum(['true', 'false']).optional(),
  q: searchText.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: cursorSchema.optional(),
});

/** The lead list's one statement (limit + 1 rows); the benchmark's bare pg floor runs the same SQL. */
export const leadListQuery = (tenantId: string, query: z.output<typeof leadListFilter>) => {
  const conditions = [sql.fragment`tenant_id = ${tenantId}`];
  if (query.botId) conditions.push(sql.fragment`bot_id = ${query.botId}`);
  if (query.stageId) conditions.push(sql.fragment`stage_id = ${query.stageId}`);
  if (query.qualified) conditions.push(sql.fragment`is_qualified = ${query.qualified === 'true'}`);
  if (query.q) {
    const like = `%${query.q.trim().replace(/[\\%_]/g, '\\$&')}%`;
    conditions.push(sql.fragment`(name ILIKE ${like} OR email ILIKE ${like} OR company ILIKE ${like} OR phone_e164 LIKE ${like} OR wa_id LIKE ${like})`);
  }
  if (query.cursor) conditions.push(olderThan(query.cursor));
  return sql.type(leadRow)`
    SELECT ${LEAD_COLUMNS} FROM leads WHERE ${sql.join(conditions, sql.fragment` AND `)}
    ORDER BY created_at DESC, id DESC LIMIT ${query.limit + 1}`;
};

export const registerLeadRoutes = (registry: Registry, deps: ApiDeps) => {
  registry.add({
    method: 'get', path: '/tenants/:tenantId/leads', summary: 'List leads, newest first', tag: 'leads', access: 'any', params: tenantParams,
    query: leadListFilter,
    response: z.object({ items: z.array(lead), nextCursor: z.string().nullable() }),
  }, async ({ params, query }) => {
    const rows = await deps.withTenant(params.tenantId, (tx) => tx.any(leadListQuery(params.tenantId, query)));
    return keysetPage(rows, query.limit, toLead);
  });

  registry.add({
    method: 'get', path: '/tenants/:tenantId/leads/:leadId', summary: 'Read a lead', tag: 'leads', access: 'any', params: leadParams, response: lead,
  }, async ({ params }) => {
    const { tenantId } = params;
    const row = await deps.withTenant(tenantId, (tx) => tx.maybeOne(sql.type(leadRow)`SELECT ${LEAD_COLUMNS} FROM leads WHERE tenant_id = ${tenantId} AND id = ${params.leadId}`));
    if (!row) throw new HttpProblem(404, 'Not found', 'no such lead');
    return toLead(row);
  });

  registry.add({
    method: 'get', path: '/tenants/:tenantId/leads/:leadId/messages', summary: 'A lead\'s messages, oldest first (last 500)', tag: 'leads', access: 'any',
    params: leadParams, response: z.object({ items: z.array(message) }),
  }, async ({ params }) => {
    const { tenantId } = params;
    const rows = await deps.withTenant(tenantId, async (tx) => {
      if (!await tx.exists(sql.unsafe`SELECT 1 FROM leads WHERE tenant_id = ${tenantId} AND id = ${params.leadId}`)) throw new HttpProblem(404, 'Not found', 'no such lead');
      return tx.any(sql.type(messageRow)`
        SELECT * FROM (SELECT id, direction, kind, wa_message_id, body, created_at FROM lead_messages
                       WHERE tenant_id = ${tenantId} AND lead_id = ${params.leadId} ORDER BY created_at DESC, id DESC LIMIT 500) m
        ORDER BY created_at, id`);
    });
    return { items: rows.map((row) => ({ id: row.id, direction: row.direction, kind: row.kind, waMessageId: row.wa_message_id, body: row.body, createdAt: new Date(row.created_at).toISOString() })) };
  });
};
