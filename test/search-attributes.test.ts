// The platform registers its search attributes itself (a real cluster has no dev-server flags): the
// worker adds TenantId, BotId and LeadId at start, with two replicas at once. And tenant-scoped
// workflows carry them from their start, so operators find them by tenant even before a worker ran them.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import { pino } from 'pino';
import { sql, type DatabasePool } from 'slonik';
import { createApp } from '../api/app.ts';
import { issueToken } from '../api/token-store.ts';
import { loadConfig, type Config } from '../core/config.ts';
import { createDatabasePools, createTokenAdminPool, type DatabasePools } from '../core/db/pools.ts';
import { createWithTenant, type WithTenant } from '../core/db/with-tenant.ts';
import { createObjectStoreClient } from '../core/object-store.ts';
import { connectTemporalClient } from '../core/temporal/client.ts';
import type { InboundMessage } from '../core/temporal/lead-conversation.ts';
import { registerSearchAttributes } from '../core/temporal/register-search-attributes.ts';
import { BOT_ID, PLATFORM_SEARCH_ATTRIBUTES, TENANT_ID } from '../core/temporal/search-attributes.ts';
import { processGroup } from './support/processes.ts';
import { seedTenant } from './support/tenant-fixture.ts';

const baseConfig = loadConfig();
const processes = processGroup();
let temporal: Client;

beforeAll(async () => {
  temporal = await connectTemporalClient(baseConfig.temporal);
});
afterAll(async () => {
  await processes.stopAll();
  await temporal.connection.close();
});

const customAttributes = async (namespace: string) =>
  (await temporal.connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};
const platformAttributes = async (namespace: string) => {
  const registered = await customAttributes(namespace);
  return Object.fromEntries(PLATFORM_SEARCH_ATTRIBUTES.map((key) => [key.name, registered[key.name] ?? null]));
};
// INDEXED_VALUE_TYPE_KEYWORD
const ALL_KEYWORD = { TenantId: 2, BotId: 2, LeadId: 2 };

/** A namespace of its own, without the platform's attributes (the dev server's flags apply to its default namespace only). */
const freshNamespace = async () => {
  const namespace = `search-attributes-${randomUUID().slice(0, 8)}`;
  await temporal.connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
  // A new namespace reaches the frontend's cache within a few seconds.
  for (const deadline = Date.now() + 30_000; ; await sleep(200)) {
    try {
      await customAttributes(namespace);
      break;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
  }
  expect(await platformAttributes(namespace)).toEqual({ TenantId: null, BotId: null, LeadId: null });
  return namespace;
};

describe('search attribute registration', () => {
  it('adds the three to a namespace without them, twice at once as two replicas would, and is a no-op after', async () => {
    const namespace = await freshNamespace();
    const replicas = await Promise.all([connectTemporalClient(baseConfig.temporal), connectTemporalClient(baseConfig.temporal)]);
    try {
      const added = await Promise.all(replicas.map((replica) => registerSearchAttributes(replica.connection, namespace)));
      expect(new Set(added.flat())).toEqual(new Set(['TenantId', 'BotId', 'LeadId']));
      expect(await registerSearchAttributes(replicas[0]!.connection, namespace)).toEqual([]);
    } finally {
      await Promise.all(replicas.map((replica) => replica.connection.close()));
    }
    expect(await platformAttributes(namespace)).toEqual(ALL_KEYWORD);
  }, 60_000);

  it('is done by the worker at start: two workers started together on a fresh namespace both start, and the three exist', async () => {
    const namespace = await freshNamespace();
    const env = { TEMPORAL_NAMESPACE: namespace, TEMPORAL_TASK_QUEUE: `search-attributes-${randomUUID()}` };
    await Promise.all([0, 1].map(() => processes.start(['worker/main.ts'], { env, readyText: 'worker started' })));
    expect(await platformAttributes(namespace)).toEqual(ALL_KEYWORD);
  }, 90_000);
});

describe('tenant-scoped workflows started by the API', () => {
  let pools: DatabasePools;
  let tokenPool: DatabasePool;
  let withTenant: WithTenant;
  let api: ReturnType<typeof createApp>;
  let base: string;
  const s3 = createObjectStoreClient(baseConfig.s3);
  // A task queue no worker polls: the workflows stay as they were started, with only what their start gave them.
  const config: Config = {
    ...baseConfig,
    temporal: { ...baseConfig.temporal, taskQueue: `unpolled-${randomUUID()}` },
    api: { ...baseConfig.api, rateLimit: { ...baseConfig.api.rateLimit, scope: randomUUID() } },
  };

  beforeAll(async () => {
    pools = await createDatabasePools(config.database);
    tokenPool = await createTokenAdminPool(config.database);
    withTenant = createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 });
    api = createApp({
      config, pools, tokenPool, withTenant, logger: pino({ level: 'silent' }), s3,
      temporalHealthy: async () => true, temporal: async () => temporal,
    });
    const server = await api.start(0, '127.0.0.1');
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await api.stop();
    s3.destroy();
    await Promise.all([pools.end(), tokenPool.end()]);
  });

  it('carry TenantId (and BotId where they concern a bot): threshold change, session snapshot, bot status, dead-letter replay', async () => {
    const tenant = await seedTenant(withTenant);
    const token = (await issueToken(tokenPool, { tenantId: null, name: 'search-attributes', expiresAt: null, actor: 'test' }))!.token;
    const waId = '5511955501234';
    const message: InboundMessage = {
      tenantId: tenant.tenantId, botId: tenant.botId, waId, waMessageId: `${waId}-SA-1`, text: 'oi', receivedAt: new Date().toISOString(),
    };
    const deadLetterId = await withTenant(tenant.tenantId, (tx) => tx.oneFirst(sql.unsafe`
      INSERT INTO dead_letters (tenant_id, bot_id, wa_message_id, message, reason)
      VALUES (${tenant.tenantId}, ${tenant.botId}, ${message.waMessageId}, ${sql.jsonb(message)}, 'test') RETURNING id`)) as string;
    const call = (method: string, path: string, body?: unknown, signal?: AbortSignal) => fetch(`${base}/api/v1/tenants/${tenant.tenantId}${path}`, {
      method, signal,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': `sa-${randomUUID()}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    expect((await call('POST', `/bots/${tenant.botId}/qualification-threshold`, { threshold: 55 })).status).toBe(202);
    expect((await call('POST', '/session-snapshots')).status).toBe(202);
    expect((await call('POST', `/dead-letters/${deadLetterId}/replay`)).status).toBe(202);
    // The status route waits for the pod's answer, which never comes here: only its start is looked at.
    const waiting = new AbortController();
    const status = call('GET', `/bots/${tenant.botId}/status`, undefined, waiting.signal).catch(() => null);

    // Found by tenant in visibility, as an operator would in Temporal UI.
    let found: WorkflowExecutionInfo[] = [];
    for (const deadline = Date.now() + 20_000; found.length < 4 && Date.now() < deadline; await sleep(250)) {
      found = [];
      for await (const workflow of temporal.workflow.list({ query: `TenantId = '${tenant.tenantId}'` })) found.push(workflow);
    }
    waiting.abort();
    await status;
    try {
      const carried = Object.fromEntries(found.map((workflow) => [workflow.type, {
        tenantId: workflow.typedSearchAttributes.get(TENANT_ID), botId: workflow.typedSearchAttributes.get(BOT_ID) ?? null,
      }]));
      const both = { tenantId: tenant.tenantId, botId: tenant.botId };
      expect(carried).toEqual({
        changeQualificationThreshold: both, readBotStatus: both, leadConversation: both,
        snapshotTenantSessions: { tenantId: tenant.tenantId, botId: null },
      });
    } finally {
      for (const workflow of found) await temporal.workflow.getHandle(workflow.workflowId, workflow.runId).terminate('test over').catch(() => undefined);
    }
  }, 60_000);
});
