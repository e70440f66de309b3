// The two systems under load: the platform (lead conversation → reply recorded in Postgres) and
// the engine floor (the same workflow shape with one no-op activity).
import type { Client } from '@temporalio/client';
import { sql } from 'slonik';
import { z } from 'zod';
import type { WithTenant } from '../core/db/with-tenant.ts';
import {
  inboundDelivery, LEAD_CONVERSATION_WORKFLOW, leadWorkflowId, type InboundMessage,
} from '../core/temporal/lead-conversation.ts';
import { messageIdFor } from '../bot-pods/sent-log.ts';
import type * as workflows from '../workflows/index.ts';
import { FLOOR_TASK_QUEUE } from './floor/activities.ts';
import type { benchFloor } from './floor/workflows.ts';
import type { BenchMessage, Target } from './load.ts';

/**
 * The production default. A shorter one made the burst's leads idle out (one workflow task and a
 * visibility write each) inside the paced run that follows, which the floor's workflows never do;
 * the section terminates what is left when it ends.
 */
const IDLE_TIMEOUT_SECONDS = 600;

export const platformTarget = (deps: {
  client: Client; taskQueue: string; withTenant: WithTenant; tenantId: string; botId: string;
}): Target => {
  const { client, taskQueue, withTenant, tenantId, botId } = deps;
  const waIdOf = (message: BenchMessage) => `bench-${message.key.split('-')[0]}-${message.leadIndex}`;
  // The bot pod sends the reply to `<inbound id>` under a WhatsApp id derived from `reply:<inbound id>`.
  const replyIdOf = (key: string) => messageIdFor(`reply:${key}`);
  const completed = z.object({ waMessageId: z.string(), at: z.number() });
  const workflowIdOf = (message: BenchMessage) => leadWorkflowId(tenantId, botId, waIdOf(message));
  return {
    workflowIdOf,
    async send(message) {
      const waId = waIdOf(message);
      const inbound: InboundMessage = {
        tenantId, botId, waId, waMessageId: message.key, text: message.text, receivedAt: new Date().toISOString(),
      };
      // Started as the bot pod starts it (its search attributes included).
      await client.workflow.signalWithStart<typeof workflows.leadConversation, [InboundMessage]>(LEAD_CONVERSATION_WORKFLOW,
        inboundDelivery(tenantId, inbound, { taskQueue, idleTimeoutSeconds: IDLE_TIMEOUT_SECONDS }));
    },
    async doneCount(keys) {
      return withTenant(tenantId, (tx) => tx.oneFirst(sql.type(z.object({ count: z.number() }))`
        SELECT count(*)::int AS count FROM lead_messages
        WHERE bot_id = ${botId} AND direction = 'outbound' AND wa_message_id = ANY(${sql.array(keys.map(replyIdOf), 'text')})`));
    },
    async completions(keys) {
      const rows = await withTenant(tenantId, (tx) => tx.any(sql.type(completed)`
        SELECT wa_message_id AS "waMessageId", (extract(epoch FROM created_at) * 1000)::float8 AS at FROM lead_messages
        WHERE bot_id = ${botId} AND direction = 'outbound' AND wa_message_id = ANY(${sql.array(keys.map(replyIdOf), 'text')})`));
      const keyOf = new Map(keys.map((key) => [replyIdOf(key), key]));
      return new Map(rows.map((row) => [keyOf.get(row.waMessageId)!, row.at]));
    },
  };
};

/**
 * The floor's activity reports each handled key over IPC; `record` is the IPC message handler.
 * `benchFloor` runs its activity on its own queue, `benchFloorRemote` in another process, and
 * `benchFloorShaped` the lead conversation's steps as no-ops (bench/floor/workflows.ts).
 */
export const floorTarget = (
  client: Client, expectedPerLead: (message: BenchMessage) => number, workflowType: 'benchFloor' | 'benchFloorRemote' | 'benchFloorShaped' = 'benchFloor',
) => {
  const handledAt = new Map<string, number>();
  const target: Target = {
    workflowIdOf: (message) => `${workflowType}/${message.key.split('-')[0]}/${message.leadIndex}`,
    async send(message) {
      await client.workflow.signalWithStart<typeof benchFloor, [{ key: string }]>(workflowType, {
        workflowId: target.workflowIdOf(message),
        taskQueue: FLOOR_TASK_QUEUE,
        args: [{ expected: expectedPerLead(message) }],
        signal: 'inbound',
        signalArgs: [{ key: message.key }],
      });
    },
    async doneCount(keys) { return keys.filter((key) => handledAt.has(key)).length; },
    async completions(keys) { return new Map(keys.map((key) => [key, handledAt.get(key)!])); },
  };
  const record = (message: unknown) => {
    const { key, at } = message as { key: string; at: number };
    handledAt.set(key, at);
  };
  return { target, record };
};
