// Dead letters of a tenant: inbound messages its lead conversations could not process (see
// docs/lead-conversation.md). Listed newest first, read one, and replay one: the stored message is
// delivered again to its lead's workflow, exactly as the bot pod delivers it.
import { sql } from 'slonik';
import { z } from 'zod';
import { inboundDelivery, LEAD_CONVERSATION_WORKFLOW, type InboundMessage } from '../../core/temporal/lead-conversation.ts';
import type * as workflows from '../../workflows/index.ts';
import type { ApiDeps } from '../deps.ts';
import { HttpProblem } from '../problem.ts';
import type { Registry } from '../route.ts';
import { CREATED_US, keysetPage, olderThan } from './keyset-page.ts';
import { cursorSchema, tenantParams } from './schemas.ts';

const deadLetterParams = z.strictObject({ tenantId: z.uuid(), deadLetterId: z.uuid() });
const status = z.enum(['pending', 'replayed']);

/** The message as the workflow stored it: read back before it is delivered again. */
const storedMessage = z.object({
  tenantId: z.uuid(), botId: z.uuid(), waId: z.string().min(1), waMessageId: z.string().min(1), text: z.string(), receivedAt: z.string(),
  pushName: z.string().nullable().optional(), phoneE164: z.string().nullable().optional(), lid: z.string().nullable().optional(),
  chatJid: z.string().nullable().optional(),
});

// What an older or faulty pod stored may not be a whole message: shown as stored, and not replayable.
const shownMessage = storedMessage.or(z.record(z.string(), z.unknown()).describe('a stored message that is not a whole inbound message, as stored'));
const deadLetter = z.object({
  id: z.uuid(), botId: z.uuid(), waMessageId: z.string(), message: shownMessage, reason: z.string(), attempts: z.number().int(), status,
  createdAt: z.string(), updatedAt: z.string(), replayedAt: z.string().nullable(),
});
const deadLetterRow = z.object({
  id: z.uuid(), bot_id: z.uuid(), wa_message_id: z.string(), message: z.unknown(), reason: z.string(), attempts: z.number(), status,
  created_at: z.number(), updated_at: z.number(), replayed_at: z.number().nullable(), created_us: z.string(),
});
const COLUMNS = sql.fragment`id, bot_id, wa_message_id, message, reason, attempts, status, created_at, updated_at, replayed_at, ${CREATED_US}`;
const iso = (millis: number) => new Date(millis).toISOString();
const asShown = (stored: unknown) => {
  const message = storedMessage.safeParse(stored);
  if (message.success) return message.data;
  return typeof stored === 'object' && stored !== null && !Array.isArray(stored) ? stored as Record<string, unknown> : { stored };
};
const toDeadLetter = (row: z.infer<typeof deadLetterRow>) => ({
  id: row.id, botId: row.bot_id, waMessageId: row.wa_message_id, message: asShown(row.message), reason: row.reason,
  attempts: row.attempts, status: row.status, createdAt: iso(row.created_at), updatedAt: iso(row.updated_at),
  replayedAt: row.replayed_at === null ? null : iso(row.replayed_at),
});

export const registerDeadLetterRoutes = (registry: Registry, deps: ApiDeps) => {
  registry.add({
    method: 'get', path: '/tenants/:tenantId/dead-letters', summary: 'List inbound messages that could not be processed, newest first',
    tag: 'dead-letters', access: 'any', params: tenantParams,
    query: z.strictObject({ status: status.optional(), limit: z.coerce.number().int().min(1).max(100).default(50), cursor: cursorSchema.optional() }),
    response: z.object({ items: z.array(deadLetter), nextCursor: z.string().nullable() }),
  }, async ({ params, query }) => {
    const { tenantId } = params;
    const conditions = [sql.fragment`tenant_id = ${tenantId}`];
    if (query.status) conditions.push(sql.fragment`status = ${query.status}`);
    if (query.cursor) conditions.push(olderThan(query.cursor));
    const rows = await deps.withTenant(tenantId, (tx) => tx.any(sql.type(deadLetterRow)`
      SELECT ${COLUMNS} FROM dead_letters WHERE ${sql.join(conditions, sql.fragment` AND `)}
      ORDER BY created_at DESC, id DESC LIMIT ${query.limit + 1}`));
    return keysetPage(rows, query.limit, toDeadLetter);
  });

  registry.add({
    method: 'get', path: '/tenants/:tenantId/dead-letters/:deadLetterId', summary: 'Read a dead letter', tag: 'dead-letters', access: 'any',
    params: deadLetterParams, response: deadLetter,
  }, async ({ params }) => {
    const row = await deps.withTenant(params.tenantId, (tx) => tx.maybeOne(sql.type(deadLetterRow)`
      SELECT ${COLUMNS} FROM dead_letters WHERE tenant_id = ${params.tenantId} AND id = ${params.deadLetterId}`));
    if (!row) throw new HttpProblem(404, 'Not found', 'no such dead letter');
    return toDeadLetter(row);
  });

  registry.add({
    method: 'post', path: '/tenants/:tenantId/dead-letters/:deadLetterId/replay',
    summary: 'Deliver a dead letter again to its lead\'s workflow; a second replay delivers nothing (redelivered: false)',
    tag: 'dead-letters', access: 'any', params: deadLetterParams, status: 202,
    response: z.object({ deadLetter, redelivered: z.boolean() }),
  }, async ({ params, principal }) => {
    const { tenantId } = params;
    const config = deps.config;
    return deps.withTenant(tenantId, async (tx) => {
      // Locked: two concurrent replays deliver once.
      const row = await tx.maybeOne(sql.type(deadLetterRow)`
        SELECT ${COLUMNS} FROM dead_letters WHERE tenant_id = ${tenantId} AND id = ${params.deadLetterId} FOR UPDATE`);
      if (!row) throw new HttpProblem(404, 'Not found', 'no such dead letter');
      if (row.status === 'replayed') return { deadLetter: toDeadLetter(row), redelivered: false };
      const parsed = storedMessage.safeParse(row.message);
      if (!parsed.success) {
        throw new HttpProblem(422, 'Not a replayable message', `the stored message is not a whole inbound message: ${z.prettifyError(parsed.error)}`);
      }
      const message: InboundMessage = parsed.data;
      if (message.tenantId !== tenantId || message.botId !== row.bot_id) throw new HttpProblem(409, 'Conflicts with stored data', 'the stored message names another bot');
      // Delivered before the row is marked: if the commit fails the row stays pending, and a
      // second delivery is a duplicate the workflow answers once (idempotent on the WhatsApp id).
      await (await deps.temporal()).workflow.signalWithStart<typeof workflows.leadConversation, [InboundMessage]>(LEAD_CONVERSATION_WORKFLOW,
        inboundDelivery(tenantId, message, { taskQueue: config.temporal.taskQueue, idleTimeoutSeconds: config.conversation.idleTimeoutSeconds }));
      const replayed = await tx.one(sql.type(deadLetterRow)`
        UPDATE dead_letters SET status = 'replayed', replayed_at = now() WHERE tenant_id = ${tenantId} AND id = ${row.id} RETURNING ${COLUMNS}`);
      await tx.query(sql.unsafe`
        INSERT INTO audit_logs (tenant_id, actor, action, details)
        VALUES (${tenantId}, ${`api:${principal.tokenId}`}, 'lead.dead_letter_replayed', ${sql.jsonb({ deadLetterId: row.id, waMessageId: row.wa_message_id })})`);
      return { deadLetter: toDeadLetter(replayed), redelivered: true };
    }, { actor: `api:${principal.tokenId}` });
  });
};
