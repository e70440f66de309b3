// A bot's WhatsApp session through the API: pairing by code, logout (the credentials leave the pod's
// volume), restart of its connection, and its connection history. Only the tenant's bot pod holds
// the socket: each command is a short workflow calling the pod's activity (core/temporal/bot-sessions.ts),
// and a pod that does not take it within seconds is answered as a 503, never a request left hanging.
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, TimeoutFailure } from '@temporalio/common';
import { sql } from 'slonik';
import { z } from 'zod';
import type { TenantTransaction } from '../../core/db/with-tenant.ts';
import { failureReason } from '../../core/temporal/failure-reason.ts';
import { BOT_SESSION_CONFLICTS, BOT_SESSION_EVENT_KINDS, type BotSessionCommandInput } from '../../core/temporal/bot-sessions.ts';
import { tenantSearchAttributes } from '../../core/temporal/search-attributes.ts';
import type * as workflows from '../../workflows/index.ts';
import type { ApiDeps } from '../deps.ts';
import { HttpProblem, UNAVAILABLE_RETRY_AFTER_SECONDS } from '../problem.ts';
import type { Registry } from '../route.ts';
import { keysetPage, olderThan, timeMicros } from './keyset-page.ts';
import { requireBot } from './require-bot.ts';
import { botParams, cursorSchema, e164 } from './schemas.ts';

type Workflows = typeof workflows;
type SessionCommand = 'requestBotPairingCode' | 'logoutBotSession' | 'restartBotConnection';

const causes = (error: unknown): unknown[] => {
  const chain: unknown[] = [];
  for (let current = error; current instanceof Error && chain.length < 10; current = current.cause) chain.push(current);
  return chain;
};

/** What the pod's answer (or its silence) means to the caller. */
const commandProblem = (error: WorkflowFailedError): HttpProblem => {
  const chain = causes(error);
  const refusal = chain.find((link): link is ApplicationFailure => link instanceof ApplicationFailure && (BOT_SESSION_CONFLICTS as readonly string[]).includes(link.type ?? ''));
  if (refusal) return new HttpProblem(409, 'Conflict', refusal.message);
  if (chain.some((link) => link instanceof TimeoutFailure)) {
    return new HttpProblem(503, 'Bot pod unavailable', 'the tenant\'s bot pod did not take the command in time: it is down, starting or not running; retry after the time in Retry-After',
      { dependency: 'the bot pod' }, { 'Retry-After': String(UNAVAILABLE_RETRY_AFTER_SECONDS) });
  }
  return new HttpProblem(502, 'Bot pod failed', `the tenant's bot pod could not carry out the command: ${failureReason(error)}`);
};

const audit = (tx: TenantTransaction, tenantId: string, actor: string, action: string, details: Record<string, string>) => tx.query(sql.unsafe`
  INSERT INTO audit_logs (tenant_id, actor, action, details) VALUES (${tenantId}, ${actor}, ${action}, ${sql.jsonb(details)})`);

const sessionEvent = z.object({
  id: z.uuid(), kind: z.enum(BOT_SESSION_EVENT_KINDS), reason: z.string().nullable(), statusCode: z.number().int().nullable(), occurredAt: z.string(),
});
const sessionEventRow = z.object({
  id: z.uuid(), kind: z.enum(BOT_SESSION_EVENT_KINDS), reason: z.string().nullable(), status_code: z.number().nullable(), occurred_at: z.number(), created_us: z.string(),
});

const COMMAND_PROBLEMS = {
  409: 'The bot\'s state does not allow it (a pairing code for a bot that is paired or still connecting, a bot its pod does not run)',
  502: 'The bot pod took the command and failed it; the reason is in detail',
};

export const registerBotSessionRoutes = (registry: Registry, deps: ApiDeps) => {
  /** Runs a command on the tenant's pod and audits it once done. */
  const runOnPod = async <Name extends SessionCommand>(
    name: Name, input: Parameters<Workflows[Name]>[0] & BotSessionCommandInput, actor: string, action: string,
  ): Promise<Awaited<ReturnType<Workflows[Name]>>> => {
    const { tenantId, botId } = input;
    await deps.withTenant(tenantId, (tx) => requireBot(tx, tenantId, botId));
    // Temporal away fails the start: a 503 (the problem handler).
    const handle = await (await deps.temporal()).workflow.start<Workflows[Name]>(name, {
      workflowId: `api/${tenantId}/bot-session/${randomUUID()}`, taskQueue: deps.config.temporal.taskQueue,
      args: [input] as never, workflowExecutionTimeout: '20 seconds',
      typedSearchAttributes: tenantSearchAttributes({ tenantId, botId }),
    });
    const result = await handle.result().catch((error: unknown) => {
      if (error instanceof WorkflowFailedError) throw commandProblem(error);
      throw error;
    }) as Awaited<ReturnType<Workflows[Name]>>;
    await deps.withTenant(tenantId, (tx) => audit(tx, tenantId, actor, action, { botId }));
    return result;
  };

  registry.add({
    method: 'post', path: '/tenants/:tenantId/bots/:botId/session/pairing-code',
    summary: 'Pair the bot by code: the 8 characters to type on the phone (Linked devices, Link with phone number instead); the bot then connects',
    tag: 'bot sessions', access: 'any', params: botParams, body: z.strictObject({ phoneE164: e164 }),
    response: z.object({ botId: z.uuid(), code: z.string() }), problems: COMMAND_PROBLEMS,
  }, async ({ params, body, principal }) => {
    const { code } = await runOnPod('requestBotPairingCode', { ...params, phoneE164: body.phoneE164 }, `api:${principal.tokenId}`, 'bot.session.pairing_code');
    return { botId: params.botId, code };
  });

  registry.add({
    method: 'post', path: '/tenants/:tenantId/bots/:botId/session/logout',
    summary: 'Log the bot out of WhatsApp and remove its credentials from the pod\'s volume; it then waits for a new pairing',
    tag: 'bot sessions', access: 'any', params: botParams,
    response: z.object({ botId: z.uuid(), state: z.literal('needs_pairing') }), problems: COMMAND_PROBLEMS,
  }, async ({ params, principal }) => {
    await runOnPod('logoutBotSession', params, `api:${principal.tokenId}`, 'bot.session.logout');
    return { botId: params.botId, state: 'needs_pairing' as const };
  });

  registry.add({
    method: 'post', path: '/tenants/:tenantId/bots/:botId/session/restart',
    summary: 'Close the bot\'s WhatsApp connection and open it again with the stored credentials (the pod keeps running)',
    tag: 'bot sessions', access: 'any', params: botParams,
    response: z.object({ botId: z.uuid(), restarted: z.literal(true) }), problems: COMMAND_PROBLEMS,
  }, async ({ params, principal }) => {
    await runOnPod('restartBotConnection', params, `api:${principal.tokenId}`, 'bot.session.restart');
    return { botId: params.botId, restarted: true as const };
  });

  registry.add({
    method: 'get', path: '/tenants/:tenantId/bots/:botId/session/history',
    summary: 'The bot\'s connection history, newest first: connecting, open, close (with the disconnect reason and code), logged out, pairing',
    tag: 'bot sessions', access: 'any', params: botParams,
    query: z.strictObject({ limit: z.coerce.number().int().min(1).max(100).default(50), cursor: cursorSchema.optional() }),
    response: z.object({ items: z.array(sessionEvent), nextCursor: z.string().nullable() }),
  }, async ({ params, query }) => {
    const { tenantId, botId } = params;
    const rows = await deps.withTenant(tenantId, async (tx) => {
      await requireBot(tx, tenantId, botId);
      return tx.any(sql.type(sessionEventRow)`
        SELECT id, kind, reason, status_code, occurred_at, ${timeMicros('occurred_at')} FROM bot_session_events
         WHERE tenant_id = ${tenantId} AND bot_id = ${botId} ${query.cursor ? sql.fragment`AND ${olderThan(query.cursor, 'occurred_at')}` : sql.fragment``}
         ORDER BY occurred_at DESC, id DESC LIMIT ${query.limit + 1}`);
    });
    return keysetPage(rows, query.limit, (row) => ({
      id: row.id, kind: row.kind, reason: row.reason, statusCode: row.status_code, occurredAt: new Date(row.occurred_at).toISOString(),
    }));
  });
};
