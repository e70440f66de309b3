// Stores the connection history a bot pod reports, under RLS as the pod's tenant. The pod is not
// trusted with the shape of what it sends: every event is parsed, and one of a bot the tenant no
// longer has is dropped rather than failing the batch forever.
import { ApplicationFailure } from '@temporalio/common';
import { sql } from 'slonik';
import { z } from 'zod';
import type { WithTenant } from '../../core/db/with-tenant.ts';
import { BOT_SESSION_EVENT_KINDS, type RecordBotSessionEventsInput } from '../../core/temporal/bot-sessions.ts';

const input = z.object({
  tenantId: z.uuid(),
  events: z.array(z.object({
    id: z.uuid(), botId: z.uuid(), kind: z.enum(BOT_SESSION_EVENT_KINDS), reason: z.string().min(1).max(500).nullable(),
    statusCode: z.number().int().min(100).max(999).nullable(), occurredAt: z.iso.datetime({ offset: true }),
  })).max(1_000),
});

export const createBotSessionActivities = (deps: { withTenant: WithTenant }) => ({
  /** Inserts the events once each (by id); returns how many were new. */
  async storeBotSessionEvents(raw: RecordBotSessionEventsInput): Promise<{ stored: number }> {
    const parsed = input.safeParse(raw);
    if (!parsed.success) throw ApplicationFailure.nonRetryable(`not a connection history: ${z.prettifyError(parsed.error)}`, 'InvalidInput');
    const { tenantId, events } = parsed.data;
    let stored = 0;
    await deps.withTenant(tenantId, async (tx) => {
      for (const event of events) {
        const result = await tx.query(sql.unsafe`
          INSERT INTO bot_session_events (id, tenant_id, bot_id, kind, reason, status_code, occurred_at)
          SELECT ${event.id}::uuid, ${tenantId}::uuid, ${event.botId}::uuid, ${event.kind}::text, ${event.reason}::text, ${event.statusCode}::integer,
                 ${event.occurredAt}::timestamptz
           WHERE EXISTS (SELECT 1 FROM bots WHERE tenant_id = ${tenantId} AND id = ${event.botId})
          ON CONFLICT (id) DO NOTHING`);
        stored += result.rowCount;
      }
    }, { actor: `bot-pod:${tenantId}` });
    return { stored };
  },
});

export type BotSessionActivities = ReturnType<typeof createBotSessionActivities>;
