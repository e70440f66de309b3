// Two tenants on one platform worker: tenant A (hostile) floods long messages at accepted but
// costly rules while tenant B's ingest latency is measured, alone and beside A. Used by
// test/scoring-isolation.test.ts and the benchmark's isolation section.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { sql } from 'slonik';
import { z } from 'zod';
import type { WithTenant } from '../../core/db/with-tenant.ts';
import { validateScoringRules, type ScoringRule } from '../../core/scoring/rules.ts';
import {
  INBOUND_SIGNAL, LEAD_CONVERSATION_WORKFLOW, leadWorkflowId, type InboundMessage, type LeadConversationInput,
} from '../../core/temporal/lead-conversation.ts';
import type * as workflows from '../../workflows/index.ts';
import { hostileRules, hostileText } from './hostile-scoring.ts';
import { seedTenant, type TenantGraph } from './tenant-fixture.ts';

export const createIsolationRun = async (deps: { client: Client; taskQueue: string; withTenant: WithTenant }) => {
  const { client, taskQueue, withTenant } = deps;
  const run = Date.now().toString(36);
  const storeRules = (tenant: TenantGraph, rules: ScoringRule[]) => withTenant(tenant.tenantId, async (tx) => {
    for (const rule of validateScoringRules(rules)) {
      await tx.query(sql.unsafe`INSERT INTO scoring_rules (tenant_id, bot_id, kind, pattern, weight, tag)
        VALUES (${tenant.tenantId}, ${tenant.botId}, ${rule.kind}, ${rule.pattern}, ${rule.weight}, ${rule.tag ?? null})`);
    }
  });
  const [hostile, benign, calm] = [await seedTenant(withTenant), await seedTenant(withTenant), await seedTenant(withTenant)];
  const cheapRules: ScoringRule[] = [{ kind: 'keyword', pattern: 'preço', weight: 5, tag: 'pricing', active: true }];
  await storeRules(hostile, hostileRules());
  // The same traffic as the hostile tenant's with cheap rules: what the load alone costs tenant B.
  await storeRules(benign, cheapRules);
  await storeRules(calm, cheapRules);

  const send = (tenant: TenantGraph, waId: string, waMessageId: string, text: string) => client.workflow.signalWithStart<typeof workflows.leadConversation, [InboundMessage]>(LEAD_CONVERSATION_WORKFLOW, {
    workflowId: leadWorkflowId(tenant.tenantId, tenant.botId, waId),
    taskQueue,
    args: [{ tenantId: tenant.tenantId, botId: tenant.botId, waId, idleTimeoutSeconds: 30 } satisfies LeadConversationInput],
    signal: INBOUND_SIGNAL,
    signalArgs: [{ tenantId: tenant.tenantId, botId: tenant.botId, waId, waMessageId, text, receivedAt: new Date().toISOString() }],
  });
  const ingested = (tenant: TenantGraph, waMessageIds: readonly string[]) => withTenant(tenant.tenantId, (tx) => tx.anyFirst(sql.type(z.object({ wa_message_id: z.string() }))`
    SELECT wa_message_id FROM lead_messages WHERE tenant_id = ${tenant.tenantId} AND direction = 'inbound' AND wa_message_id = ANY(${sql.array([...waMessageIds], 'text')})`));

  let phases = 0;
  return {
    /**
     * Ingest latencies (ms, ascending) of `count` messages of tenant B, one every 100 ms, each on a
     * lead of its own (a lead's next message would wait for the reply to its last).
     */
    async calmLatencies(count: number, waitMs = 60_000): Promise<number[]> {
      const phase = (phases += 1);
      const sentAt = new Map<string, number>();
      const latencies = new Map<string, number>();
      const collect = async () => {
        for (const done of await ingested(calm, [...sentAt.keys()].filter((key) => !latencies.has(key)))) latencies.set(done, performance.now() - sentAt.get(done)!);
      };
      for (let i = 0; i < count; i += 1) {
        const id = `${run}-calm-${phase}-${i}`;
        sentAt.set(id, performance.now());
        await send(calm, `55119${String(phase).padStart(2, '0')}${String(i).padStart(6, '0')}`, id, `qual o preço? ${i}`);
        await sleep(100);
        await collect();
      }
      const deadline = performance.now() + waitMs;
      while (latencies.size < count && performance.now() < deadline) {
        await sleep(20);
        await collect();
      }
      return [...latencies.values()].sort((a, b) => a - b);
    },
    /**
     * Tenant A: `leads` conversations at once, one message of `length` characters each; resolves
     * once they are sent. `benign` sends the same messages from a tenant whose rules are cheap.
     */
    async flood(leads: number, length = 30_000, from: 'hostile' | 'benign' = 'hostile') {
      const sender = from === 'hostile' ? hostile : benign;
      const ids = Array.from({ length: leads }, (_, i) => `${run}-${from}-${phases}-${i}`);
      await Promise.all(ids.map((id, i) => send(sender, `55118${String(phases).padStart(2, '0')}${String(i).padStart(6, '0')}`, id, hostileText(length, i + 1))));
      return {
        ids,
        /** How many of them are stored, after waiting up to `waitMs` for all. */
        async stored(waitMs = 60_000) {
          const deadline = performance.now() + waitMs;
          while ((await ingested(sender, ids)).length < ids.length && performance.now() < deadline) await sleep(200);
          return (await ingested(sender, ids)).length;
        },
      };
    },
  };
};

export const percentile = (ascending: readonly number[], p: number) => ascending[Math.min(ascending.length - 1, Math.floor(ascending.length * p))]!;
