// The lead conversation through real processes: the platform worker, a stand-in bot pod on the
// tenant's task queue, Temporal and Postgres.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client, Connection } from '@temporalio/client';
import { sql } from 'slonik';
import { z } from 'zod';
import { loadConfig } from '../core/config.ts';
import { createDatabasePools, type DatabasePools } from '../core/db/pools.ts';
import { createWithTenant, type WithTenant } from '../core/db/with-tenant.ts';
import {
  INBOUND_SIGNAL, LEAD_CONVERSATION_WORKFLOW, leadWorkflowId, type InboundMessage, type LeadConversationInput,
} from '../core/temporal/lead-conversation.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

const config = loadConfig();
let pools: DatabasePools;
let withTenant: WithTenant;
let tenant: TenantGraph;
const processes: ChildProcess[] = [];

const startProcess = async (args: string[], readyText?: string) => {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  processes.push(child);
  if (readyText) {
    let output = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes(readyText)) resolve();
      });
      child.once('exit', (code) => reject(new Error(`${args[0]} exited with ${code}: ${output}`)));
    });
  }
  return child;
};

beforeAll(async () => {
  pools = await createDatabasePools(config.database);
  withTenant = createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 });
  tenant = await seedTenant(withTenant);
  await withTenant(tenant.tenantId, (tx) => tx.query(sql.unsafe`
    INSERT INTO scoring_rules (tenant_id, bot_id, kind, pattern, weight, tag) VALUES
      (${tenant.tenantId}, ${tenant.botId}, 'keyword', 'preço', 3, 'pricing'),
      (${tenant.tenantId}, ${tenant.botId}, 'regex', '\\d+ usuários', 2, 'size')`));
});
afterAll(async () => {
  for (const child of processes) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  }
  await pools.end();
});

const counts = (leadWaId: string) => withTenant(tenant.tenantId, (tx) => tx.one(sql.type(z.object({
  inbound: z.number(), outbound: z.number(), score: z.number().nullable(),
}))`
  SELECT count(*) FILTER (WHERE m.direction = 'inbound')::int AS inbound,
         count(*) FILTER (WHERE m.direction = 'outbound')::int AS outbound,
         max(l.score) AS score
  FROM leads l LEFT JOIN lead_messages m ON m.tenant_id = l.tenant_id AND m.lead_id = l.id
  WHERE l.bot_id = ${tenant.botId} AND l.wa_id = ${leadWaId}`));

describe('lead conversation', () => {
  it('processes 200 concurrent messages (20 delivered twice) exactly once each, scored and answered once', async () => {
    const sentLog = join(mkdtempSync(join(tmpdir(), 'bot-pod-')), 'sent.jsonl');
    await startProcess(['test/support/stand-in-bot-pod.ts', tenant.tenantId, sentLog], 'stand-in bot pod ready');
    await startProcess(['activities/worker.ts']);

    const waId = '5511988887777';
    const messages: InboundMessage[] = Array.from({ length: 200 }, (_, i) => ({
      tenantId: tenant.tenantId, botId: tenant.botId, waId, waMessageId: `IN-${i}`, receivedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
      text: [`mensagem ${i}`, i % 2 === 0 ? 'qual o preço?' : '', i % 3 === 0 ? `somos ${i} usuários` : ''].join(' '),
    }));
    const expectedScore = messages.reduce((sum, _, i) => sum + (i % 2 === 0 ? 3 : 0) + (i % 3 === 0 ? 2 : 0), 0);
    const deliveries = [...messages, ...messages.slice(0, 20)];

    const connections = await Promise.all([1, 2, 3, 4].map(() => Connection.connect({ address: config.temporal.address })));
    const clients = connections.map((connection) => new Client({ connection, namespace: config.temporal.namespace }));
    await Promise.all(deliveries.map((message, i) => clients[i % clients.length]!.workflow.signalWithStart(LEAD_CONVERSATION_WORKFLOW, {
      workflowId: leadWorkflowId(message.tenantId, message.botId, message.waId),
      taskQueue: config.temporal.taskQueue,
      args: [{ tenantId: message.tenantId, botId: message.botId, waId: message.waId } satisfies LeadConversationInput],
      signal: INBOUND_SIGNAL,
      signalArgs: [message],
    })));
    await Promise.all(connections.map((connection) => connection.close()));

    let current = await counts(waId);
    for (const deadline = Date.now() + 150_000; current.outbound < 200 && Date.now() < deadline; ) {
      await sleep(500);
      current = await counts(waId);
    }
    await sleep(1_000); // anything extra (a double send) would land now
    expect(await counts(waId)).toEqual({ inbound: 200, outbound: 200, score: expectedScore });

    const sends = readFileSync(sentLog, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { idempotencyKey: string });
    expect(sends).toHaveLength(200);
    expect(new Set(sends.map((send) => send.idempotencyKey)).size).toBe(200);
  }, 180_000);
});
