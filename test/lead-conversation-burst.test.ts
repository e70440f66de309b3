// A burst of one lead's messages, queued while its bot pod is away: answered once each, in order,
// and the workflow pays two memo upserts (an event and a visibility write each) for the burst, not
// one per message. Real worker, bot pod (simulator), Temporal and Postgres.
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
import { saveHistories } from './support/histories.ts';
import { processGroup } from './support/processes.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

const { EventType } = proto.temporal.api.enums.v1;
const config = loadConfig();
const processes = processGroup();
let pools: DatabasePools;
let withTenant: WithTenant;
let tenant: TenantGraph;
let client: Client;

beforeAll(async () => {
  pools = await createDatabasePools(config.database);
  withTenant = createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 });
  tenant = await seedTenant(withTenant);
  client = await connectTemporalClient(config.temporal);
  await withTenant(tenant.tenantId, (tx) => tx.query(sql.unsafe`
    INSERT INTO scoring_rules (tenant_id, bot_id, kind, pattern, weight) VALUES (${tenant.tenantId}, ${tenant.botId}, 'keyword', 'preço', 3)`));
});
afterAll(async () => {
  await processes.stopAll();
  await client.connection.close();
  await pools.end();
});

const outboundCount = (waId: string) => withTenant(tenant.tenantId, (tx) => tx.oneFirst(sql.type(z.object({ count: z.number() }))`
  SELECT count(*)::int AS count FROM lead_messages m JOIN leads l ON l.tenant_id = m.tenant_id AND l.id = m.lead_id
  WHERE l.bot_id = ${tenant.botId} AND l.wa_id = ${waId} AND m.direction = 'outbound'`));

describe('a burst of one lead\'s messages', () => {
  it('answers each once, in order, with two memo upserts for the burst', async () => {
    await processes.start(['worker/main.ts']);
    const waId = '5511944443333';
    const workflowId = leadWorkflowId(tenant.tenantId, tenant.botId, waId);
    // Every message scores 3: the memo's score changes with each one.
    const messages: InboundMessage[] = Array.from({ length: 12 }, (_, i) => ({
      tenantId: tenant.tenantId, botId: tenant.botId, waId, waMessageId: `${waId}-BURST-${i}`,
      receivedAt: new Date(Date.UTC(2026, 0, 3, 0, 0, i)).toISOString(), text: `qual o preço do plano ${i}?`,
    }));
    // No pod yet: the first reply waits on the pod's queue while the rest queue up in the workflow.
    for (const message of messages) {
      await client.workflow.signalWithStart<typeof workflows.leadConversation, [InboundMessage]>(LEAD_CONVERSATION_WORKFLOW, {
        workflowId, taskQueue: config.temporal.taskQueue,
        args: [{ tenantId: tenant.tenantId, botId: tenant.botId, waId } satisfies LeadConversationInput],
        signal: INBOUND_SIGNAL, signalArgs: [message],
      });
    }
    const pod = await startBotPod(processes, tenant.tenantId);
    for (const deadline = Date.now() + 60_000; await outboundCount(waId) < 12 && Date.now() < deadline; ) await sleep(250);
    await sleep(1_000); // a double send would land now

    const sends = pod.sends(tenant.botId).filter((send) => send.jid === `${waId}@s.whatsapp.net`);
    expect(sends.map((send) => send.waMessageId)).toEqual(messages.map((message) => messageIdFor(`reply:${message.waMessageId}`)));
    expect(await outboundCount(waId)).toBe(12);

    const handle = client.workflow.getHandle(workflowId);
    // The memo is upserted with the workflow task that recorded the last reply: it may land just after the row.
    const memoOf = async () => (await handle.describe()).memo;
    for (const deadline = Date.now() + 10_000; (await memoOf())?.score !== 36 && Date.now() < deadline; ) await sleep(250);
    expect(await memoOf()).toMatchObject({ waId, score: 36 });
    // After the first message, then once the queue drained; before, one per message whose score changed (12 here).
    const history = await handle.fetchHistory();
    const memoUpserts = (history.events ?? []).filter((event) => event.eventType === EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED);
    expect(memoUpserts).toHaveLength(2);
    await saveHistories(config, client, workflowId, 'lead-conversation-burst');
  }, 120_000);
});
