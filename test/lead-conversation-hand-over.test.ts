// A busy lead's workflow hands over to a new run (continue-as-new) from a workflow task that runs
// no local activity: a message arriving during a longer one made the server refuse the hand-over,
// and the worker replayed the whole run (docs/lead-conversation.md). One lead answered message by
// message, then one whose messages queue up. Real worker, bot pod (simulator), Temporal and Postgres;
// the stack suggests continue-as-new after 1,000 events.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { loadConfig } from '../core/config.ts';
import { createDatabasePools, type DatabasePools } from '../core/db/pools.ts';
import { createWithTenant, type WithTenant } from '../core/db/with-tenant.ts';
import { connectTemporalClient } from '../core/temporal/client.ts';
import {
  inboundDelivery, LEAD_CONVERSATION_WORKFLOW, leadWorkflowId, type InboundMessage,
} from '../core/temporal/lead-conversation.ts';
import type * as workflows from '../workflows/index.ts';
import { messageIdFor } from '../bot-pods/sent-log.ts';
import { startBotPod } from './support/bot-pod.ts';
import { localActivitiesOf, recordedReplies } from './support/lead-conversation.ts';
import { saveHistories } from './support/histories.ts';
import { processGroup } from './support/processes.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

type HistoryEvent = proto.temporal.api.history.v1.IHistoryEvent;
const { EventType } = proto.temporal.api.enums.v1;
const config = loadConfig();
const processes = processGroup();
let pools: DatabasePools;
let withTenant: WithTenant;
let tenant: TenantGraph;
/** Its pod starts once every message is delivered, so the messages are queued when the hand-over comes. */
let queued: TenantGraph;
let client: Client;

beforeAll(async () => {
  pools = await createDatabasePools(config.database);
  withTenant = createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 });
  tenant = await seedTenant(withTenant);
  queued = await seedTenant(withTenant);
  client = await connectTemporalClient(config.temporal);
  await processes.start(['worker/main.ts']);
  await startBotPod(processes, tenant.tenantId);
}, 60_000);
afterAll(async () => {
  await processes.stopAll();
  await client.connection.close();
  await pools.end();
});

const outbound = (graph: TenantGraph, waId: string) => recordedReplies(withTenant, graph, waId);
const waitForOutbound = async (graph: TenantGraph, waId: string, count: number) => {
  for (const deadline = Date.now() + 120_000; (await outbound(graph, waId)).length < count && Date.now() < deadline; ) await sleep(50);
};

const messagesFor = (graph: TenantGraph, waId: string, count: number): InboundMessage[] => Array.from({ length: count }, (_, i) => ({
  tenantId: graph.tenantId, botId: graph.botId, waId, waMessageId: `${waId}-HANDOVER-${i}`,
  receivedAt: new Date(Date.UTC(2026, 0, 5, 0, 0, i)).toISOString(), text: `qual o preço do plano ${i}?`,
}));
// As the bot pod delivers it.
const deliver = (message: InboundMessage) => client.workflow.signalWithStart<typeof workflows.leadConversation, [InboundMessage]>(LEAD_CONVERSATION_WORKFLOW,
  inboundDelivery(message.tenantId, message, { taskQueue: config.temporal.taskQueue, idleTimeoutSeconds: config.conversation.idleTimeoutSeconds }));
const replyIdOf = (message: InboundMessage) => messageIdFor(`reply:${message.waMessageId}`);

const runCount = async (graph: TenantGraph, waId: string) => {
  let count = 0;
  for await (const run of client.workflow.list({ query: `WorkflowId = '${leadWorkflowId(graph.tenantId, graph.botId, waId)}'` })) count += run.runId ? 1 : 0;
  return count;
};

/** Every run of the lead's workflow, oldest first, with its history's events. */
const runsOf = async (graph: TenantGraph, waId: string) => {
  const workflowId = leadWorkflowId(graph.tenantId, graph.botId, waId);
  const runs: { runId: string; startTime: number; status: string }[] = [];
  for await (const run of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    runs.push({ runId: run.runId, startTime: run.startTime.getTime(), status: run.status.name });
  }
  runs.sort((a, b) => a.startTime - b.startTime);
  return Promise.all(runs.map(async (run) => ({
    ...run, events: (await client.workflow.getHandle(workflowId, run.runId).fetchHistory()).events ?? [],
  })));
};


/** The events of the workflow task that continued as new: from its scheduling to the hand-over. */
const handOverTaskOf = (events: readonly HistoryEvent[]) => {
  const scheduled = events.findLastIndex((event) => event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
  return { cause: events[scheduled - 1]?.eventType, events: events.slice(scheduled) };
};
const eventTypesOf = (events: readonly HistoryEvent[]) => events.map((event) => event.eventType);

describe('a busy lead\'s hand-over to a new run', () => {
  it('waits for the next message\'s task when nothing is queued, and runs no local activity in it', async () => {
    const waId = '5511933332222';
    // A lead that waits for each reply: about 14 events a message, so the 1,000th comes near the 70th.
    const messages = messagesFor(tenant, waId, 160);
    let sent = 0;
    for (; sent < messages.length && (sent < 60 || await runCount(tenant, waId) < 2); sent += 1) {
      await deliver(messages[sent]!);
      await waitForOutbound(tenant, waId, sent + 1);
    }
    expect(await outbound(tenant, waId)).toEqual(messages.slice(0, sent).map(replyIdOf));

    const [first, second] = await runsOf(tenant, waId);
    expect(first!.status).toBe('CONTINUED_AS_NEW');
    const handOver = handOverTaskOf(first!.events);
    // Scheduled by a message's arrival; completed with the hand-over and no local activity.
    expect(handOver.cause).toBe(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED);
    expect(localActivitiesOf(handOver.events)).toEqual([]);
    expect(eventTypesOf(handOver.events).at(-1)).toBe(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW);
    // The message that arrived with it is the new run's first, ingested on its own.
    expect(localActivitiesOf(second!.events)[0]).toBe('ingestInbound');
    expect([...first!.events, ...second!.events].map((event) => event.eventType)).not.toContain(EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED);
  }, 240_000);

  it('carries the reply left to record into the new run when messages are queued', async () => {
    const waId = '5511933331111';
    // All queued before the pod starts: about 8 events a message, so the 1,000th comes near the 120th.
    const messages = messagesFor(queued, waId, 180);
    for (const message of messages) await deliver(message);
    await startBotPod(processes, queued.tenantId);
    await waitForOutbound(queued, waId, messages.length);
    await sleep(1_000); // a double record would land now
    expect(await outbound(queued, waId)).toEqual(messages.map(replyIdOf));

    const runs = await runsOf(queued, waId);
    expect(runs.length).toBeGreaterThanOrEqual(2);
    const [first, second] = runs;
    const handOver = handOverTaskOf(first!.events);
    // Scheduled by the send's completion; its reply is recorded by the new run, with its first message's ingest.
    expect(handOver.cause).toBe(EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED);
    expect(localActivitiesOf(handOver.events)).toEqual([]);
    expect(localActivitiesOf(second!.events)[0]).toBe('recordThenIngest');
    expect([...first!.events, ...second!.events].map((event) => event.eventType)).not.toContain(EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED);
    await saveHistories(config, client, leadWorkflowId(queued.tenantId, queued.botId, waId), 'lead-conversation-hand-over-queued');
  }, 240_000);
});
