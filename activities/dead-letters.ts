// An inbound message the lead conversation could not process is kept, visible and replayable
// (api/routes/dead-letters.ts), instead of failing the workflow with every message behind it.
import type { DatabasePool } from 'slonik';
import { sql } from 'slonik';
import { z } from 'zod';
import type { WithTenant } from '../core/db/with-tenant.ts';
import type { DeadLetterInput } from '../core/temporal/lead-conversation.ts';
import { alert } from './platform-events.ts';

const storedRow = z.object({ id: z.uuid(), attempts: z.number() });
const ACTOR = 'lead-conversation';

export const createDeadLetterActivities = (deps: { withTenant: WithTenant; maintenancePool: DatabasePool }) => ({
  /**
   * Stores the message (once per WhatsApp id: a replay that fails again counts one more attempt),
   * with an audit row the tenant sees, then alerts platform admins. A retry after a crash stores
   * nothing twice and may repeat the alert: an alert is sent at least once.
   */
  async deadLetterInbound(input: DeadLetterInput): Promise<{ deadLetterId: string }> {
    const { message } = input;
    const reason = input.reason.slice(0, 2000) || 'unknown error';
    const stored = await deps.withTenant(message.tenantId, async (tx) => {
      const row = await tx.maybeOne(sql.type(storedRow)`
        INSERT INTO dead_letters (tenant_id, bot_id, wa_message_id, message, reason)
        VALUES (${message.tenantId}, ${message.botId}, ${message.waMessageId}, ${sql.jsonb(message as never)}, ${reason})
        ON CONFLICT ON CONSTRAINT dead_letters_message_unique DO UPDATE
          SET status = 'pending', attempts = dead_letters.attempts + 1, reason = EXCLUDED.reason, message = EXCLUDED.message
          WHERE dead_letters.status = 'replayed'
        RETURNING id, attempts`);
      if (!row) {
        return tx.one(sql.type(storedRow)`
          SELECT id, attempts FROM dead_letters WHERE tenant_id = ${message.tenantId} AND bot_id = ${message.botId} AND wa_message_id = ${message.waMessageId}`);
      }
      await tx.query(sql.unsafe`
        INSERT INTO audit_logs (tenant_id, actor, action, details)
        VALUES (${message.tenantId}, ${ACTOR}, 'lead.dead_lettered',
                ${sql.jsonb({ deadLetterId: row.id, botId: message.botId, waMessageId: message.waMessageId, attempts: row.attempts, reason })})`);
      return row;
    }, { actor: ACTOR });
    // No message text in the platform's alert: it is the tenant's customer's data.
    await alert(deps.maintenancePool, 'lead.dead_lettered', ACTOR, {
      tenantId: message.tenantId, botId: message.botId, deadLetterId: stored.id, waMessageId: message.waMessageId, attempts: stored.attempts, reason,
    });
    return { deadLetterId: stored.id };
  },
});

export type DeadLetterActivities = ReturnType<typeof createDeadLetterActivities>;
