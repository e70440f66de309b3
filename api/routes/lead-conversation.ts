// A bot's conversation settings (the seeds' message flow, audit 2.1): whether a lead that has given
// every detail the bot collects qualifies below the score threshold, and the reply to a message
// without words (voice note, sticker, location, uncaptioned image). Audited with before and after.
import { sql } from 'slonik';
import { z } from 'zod';
import { DEFAULT_NON_TEXT_REPLY } from '../../core/lead-conversation/message-kinds.ts';
import { storableText } from '../../core/text-patterns.ts';
import type { ApiDeps } from '../deps.ts';
import { HttpProblem } from '../problem.ts';
import type { Registry } from '../route.ts';
import { botParams } from './schemas.ts';

const settings = z.object({
  qualifyWhenInfoComplete: z.boolean(),
  nonTextReply: z.string().nullable(),
  /** The reply a message without words gets: nonTextReply, or the platform's default when it is null. */
  effectiveNonTextReply: z.string(),
});
const settingsRow = z.object({ qualify_when_info_complete: z.boolean(), non_text_reply: z.string().nullable() });
const toSettings = (row: z.infer<typeof settingsRow>) => ({
  qualifyWhenInfoComplete: row.qualify_when_info_complete, nonTextReply: row.non_text_reply, effectiveNonTextReply: row.non_text_reply ?? DEFAULT_NON_TEXT_REPLY,
});

export const registerLeadConversationRoutes = (registry: Registry, deps: ApiDeps) => {
  registry.add({
    method: 'get', path: '/tenants/:tenantId/bots/:botId/conversation-settings', summary: 'A bot\'s conversation settings', tag: 'bots',
    access: 'any', params: botParams, response: settings,
  }, async ({ params }) => {
    const row = await deps.withTenant(params.tenantId, (tx) => tx.maybeOne(sql.type(settingsRow)`
      SELECT qualify_when_info_complete, non_text_reply FROM bots WHERE tenant_id = ${params.tenantId} AND id = ${params.botId}`));
    if (!row) throw new HttpProblem(404, 'Not found', 'no such bot');
    return toSettings(row);
  });

  registry.add({
    method: 'put', path: '/tenants/:tenantId/bots/:botId/conversation-settings', summary: 'Replace a bot\'s conversation settings', tag: 'bots',
    access: 'any', params: botParams,
    body: z.strictObject({
      qualifyWhenInfoComplete: z.boolean().default(false)
        .describe('qualify a lead once it has given every detail the tenant\'s leadFields name, whatever its score'),
      nonTextReply: storableText({ min: 1, max: 1_000, trim: true }).nullable().default(null)
        .describe('the reply to a voice note, sticker, location or uncaptioned image; null: the platform\'s default'),
    }),
    response: settings,
  }, async ({ request, params, body }) => {
    const actor = `api:${request.principal!.tokenId}`;
    return deps.withTenant(params.tenantId, async (tx) => {
      const before = await tx.maybeOne(sql.type(settingsRow)`
        SELECT qualify_when_info_complete, non_text_reply FROM bots WHERE tenant_id = ${params.tenantId} AND id = ${params.botId} FOR UPDATE`);
      if (!before) throw new HttpProblem(404, 'Not found', 'no such bot');
      const after = await tx.one(sql.type(settingsRow)`
        UPDATE bots SET qualify_when_info_complete = ${body.qualifyWhenInfoComplete}, non_text_reply = ${body.nonTextReply}
         WHERE tenant_id = ${params.tenantId} AND id = ${params.botId}
        RETURNING qualify_when_info_complete, non_text_reply`);
      await tx.query(sql.unsafe`
        INSERT INTO audit_logs (tenant_id, actor, action, details)
        VALUES (${params.tenantId}, ${actor}, 'bot.conversation-settings.updated',
                ${sql.jsonb({ botId: params.botId, before: toSettings(before), after: toSettings(after) })})`);
      return toSettings(after);
    }, { actor });
  });
};
