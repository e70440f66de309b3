// Archive and unarchive a bot. An archived bot stops answering: its pod runs only active bots (asked
// every few seconds, bot-pods/active-bots.ts) and stops its transport; schedules and follow-ups skip
// it. Its leads, messages and catalog stay, and unarchiving makes it active again.
import { sql } from 'slonik';
import { z } from 'zod';
import type { ApiDeps } from '../deps.ts';
import { HttpProblem } from '../problem.ts';
import type { Registry } from '../route.ts';
import { botParams } from './schemas.ts';

const botStatus = z.enum(['active', 'paused', 'archived']);
const statusChange = z.object({ botId: z.uuid(), status: botStatus, previousStatus: botStatus });

export const registerBotArchiveRoutes = (registry: Registry, deps: ApiDeps) => {
  const setStatus = (to: 'active' | 'archived', action: string) => async ({ request, params }: { request: { principal?: { tokenId: string } }; params: z.output<typeof botParams> }) => {
    const { tenantId, botId } = params;
    const actor = `api:${request.principal!.tokenId}`;
    return deps.withTenant(tenantId, async (tx) => {
      const previous = await tx.maybeOneFirst(sql.type(z.object({ status: botStatus }))`
        SELECT status FROM bots WHERE tenant_id = ${tenantId} AND id = ${botId} FOR UPDATE`);
      if (previous === null) throw new HttpProblem(404, 'Not found', 'no such bot');
      // Unarchiving is for archived bots (an active one: no change); a paused bot stays paused.
      if (to === 'active' && previous === 'paused') throw new HttpProblem(409, 'Not archived', `the bot is ${previous}, not archived`);
      if (previous !== to) {
        await tx.query(sql.unsafe`UPDATE bots SET status = ${to} WHERE tenant_id = ${tenantId} AND id = ${botId}`);
        await tx.query(sql.unsafe`
          INSERT INTO audit_logs (tenant_id, actor, action, details) VALUES (${tenantId}, ${actor}, ${action}, ${sql.jsonb({ botId, from: previous })})`);
      }
      return { botId, status: to, previousStatus: previous };
    }, { actor });
  };

  registry.add({
    method: 'post', path: '/tenants/:tenantId/bots/:botId/archive', summary: 'Archive a bot: it stops answering, its leads stay (again: no change)',
    tag: 'bots', access: 'any', params: botParams, response: statusChange,
  }, setStatus('archived', 'bot.archived'));

  registry.add({
    method: 'post', path: '/tenants/:tenantId/bots/:botId/unarchive', summary: 'Unarchive a bot: it answers again',
    tag: 'bots', access: 'any', params: botParams, response: statusChange, problems: { 409: 'the bot is not archived' },
  }, setStatus('active', 'bot.unarchived'));
};
