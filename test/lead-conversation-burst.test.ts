// A burst of one lead's messages, queued while its bot pod is away: answered once each, in order,
// and the workflow pays two memo upserts (an event and a visibility write each) for the burst, not
// one per message. Each reply is recorded with the next queued message's ingest, in one local
// activity, and a failure there still dead-letters only the message it belongs to. Real worker,
// bot pod (simulator), Temporal and Postgres.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { sql } from 'slonik';
import { z } from 'zod';
import { loadConfig } from '../core/config.ts';
import { createDatabasePools, type DatabasePools } from '../core/db/pools.ts';
import { createWithTenant, type WithTenant } from '../core/db/with-tenant.ts';
import { connectTemporalClient } from '../core/temporal/client.ts';
import {
  INBOUND_SIGNAL, LEAD_CONVERSATION_WORKFLOW, leadWorkflowId, type InboundMessage, type LeadConversationInput,
} from '../core/temporal/lead-conversation.ts';
import type * as workflows from '../workflows/index.ts';
import { messageIdFor } from '../bot-pods/sent-log.ts';
import { startBotPod } from './support/bot-pod.ts';
import { localActivitiesOf, recordedReplies } from './support/lead-conversation.ts';
import { saveHistories } from './support/histories.ts';
import { processGroup } from './support/processes.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

const { EventType } = proto.temporal.api.enums.v1;
const config = loadConfig();
const processes = processGroup();
let pools: DatabasePools;
let withTenant: WithTenant;
let tenant: TenantGraph;
let other: TenantGraph;
let client: Client;

beforeAll(async () => {
  pools = await createDatabasePools(config.database);
  withTenant = createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 });
  tenant = await seedTenant(withTenant);
  other = await seedTenant(withTenant);
  client = await connectTemporalClient(config.temporal);
  await withTenant(tenant.tenantId, (tx) => tx.query(sql.unsafe`
    INSERT INTO scoring_rules (tenant_id, bot_id, kind, pattern, weight) VALUES (${tenant.tenantId}, ${tenant.botId}, 'keyword', 'preço', 3)`));
  await processes.start(['worker/main.ts']);
}, 60_000);
afterAll(async () => {
  await processes.stopAll();
  await client.connection.close();
  await pools.end();
});

const outbound = (graph: TenantGraph, waId: string) => recordedReplies(withTenant, graph, waId);
const outboundCount = async (waId: string) => (await outbound(tenant, waId)).length;

const deliverQueued = async (graph: TenantGraph, messages: readonly InboundMessage[]) => {
  for (const message of messages) {
    await client.workflow.signalWithStart<typeof workflows.leadConversation, [InboundMessage]>(LEAD_CONVERSATION_WORKFLOW, {
      workflowId: leadWorkflowId(graph.tenantId, graph.botId, message.waId), taskQueue: config.temporal.taskQueue,
      args: [{ tenantId: graph.tenantId, botId: graph.botId, waId: message.waId } satisfies LeadConversationInput],
      signal: INBOUND_SIGNAL, signalArgs: [message],
    });
  }
};

const replyIdOf = (message: InboundMessage) => messageIdFor(`reply:${message.waMessageId}`);

describe('a burst of one lead\'s messages', () => {
  it('answers each once, in order, with two memo upserts for the burst', async () => {
    const waId = '5511944443333';
    const workflowId = leadWorkflowId(tenant.tenantId, tenant.botId, waId);
    // Every message scores 3: the memo's score changes with each one.
    const messages: InboundMessage[] = Array.from({ length: 12 }, (_, i) => ({
      tenantId: tenant.tenantId, botId: tenant.botId, waId, waMessageId: `${waId}-BURST-${i}`,
      receivedAt: new Date(Date.UTC(2026, 0, 3, 0, 0, i)).toISOString(), text: `qual o preço do plano ${i}?`,
    }));
    // No pod yet: the first reply waits on the pod's queue while the rest queue up in the workflow.
    await deliverQueued(tenant, messages);
    const pod = await startBotPod(processes, tenant.tenantId);
    for (const deadline = Date.now() + 60_000; await outboundCount(waId) < 12 && Date.now() < deadline; ) await sleep(250);
    await sleep(1_000); // a double send would land now

    const sends = pod.sends(tenant.botId).filter((send) => send.jid === `${waId}@s.whatsapp.net`);
    expect(sends.map((send) => send.waMessageId)).toEqual(messages.map(replyIdOf));
    expect(await outbound(tenant, waId)).toEqual(messages.map(replyIdOf));

    const handle = client.workflow.getHandle(workflowId);
    // The memo is upserted with the workflow task that recorded the last reply: it may land just after the row.
    const memoOf = async () => (await handle.describe()).memo;
    for (const deadline = Date.now() + 10_000; (await memoOf())?.score !== 36 && Date.now() < deadline; ) await sleep(250);
    expect(await memoOf()).toMatchObject({ waId, score: 36 });
    // After the first message, then once the queue drained; before, one per message whose score changed (12 here).
    const history = await handle.fetchHistory();
    const memoUpserts = (history.events ?? []).filter((event) => event.eventType === EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED);
    expect(memoUpserts).toHaveLength(2);
    // Each reply with the ingest of the message behind it; the last, with none behind it, on its own.
    expect(localActivitiesOf(history.events ?? [])).toEqual(['ingestInbound', ...Array<string>(11).fill('recordThenIngest'), 'recordOutbound']);
    await saveHistories(config, client, workflowId, 'lead-conversation-burst');
  }, 120_000);

  it('records a reply whose next message fails its ingest for good, and dead-letters only that message', async () => {
    const waId = '5511944442222';
    const messageOf = (n: number, text = `qual o preço do plano ${n}?`): InboundMessage => ({
      tenantId: other.tenantId, botId: other.botId, waId, waMessageId: `${waId}-FALLBACK-${n}`,
      receivedAt: new Date(Date.UTC(2026, 0, 4, 0, 0, n)).toISOString(), text,
    });
    // Longer than any WhatsApp message: lead_messages refuses it (a constraint: never retried).
    const messages = [messageOf(0), messageOf(1, 'x'.repeat(70_000)), messageOf(2)];
    await deliverQueued(other, messages);
    await startBotPod(processes, other.tenantId);
    for (const deadline = Date.now() + 60_000; (await outbound(other, waId)).length < 2 && Date.now() < deadline; ) await sleep(250);

    expect(await outbound(other, waId)).toEqual([replyIdOf(messages[0]!), replyIdOf(messages[2]!)]);
    const deadLettered = await withTenant(other.tenantId, (tx) => tx.anyFirst(sql.type(z.object({ wa_message_id: z.string() }))`
      SELECT wa_message_id FROM dead_letters WHERE starts_with(wa_message_id, ${waId}) ORDER BY created_at`));
    expect(deadLettered).toEqual([messages[1]!.waMessageId]);
    // The pair failed with the second message; the reply was then recorded on its own and the
    // message ingested on its own, which failed again and was dead-lettered.
    const workflowId = leadWorkflowId(other.tenantId, other.botId, waId);
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    expect(localActivitiesOf(history.events ?? [])).toEqual(['ingestInbound', 'recordThenIngest', 'recordOutbound', 'ingestInbound', 'ingestInbound', 'recordOutbound']);
    await saveHistories(config, client, workflowId, 'lead-conversation-record-fallback');
  }, 120_000);
});
