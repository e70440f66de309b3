// The second door: on Kubernetes, a tenant created through the API gets its BotTenant before the
// row commits; when the cluster refuses or is away, nothing is created and the answer says why.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import type { Client } from '@temporalio/client';
import { pino } from 'pino';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { createApp } from '../api/app.ts';
import { issueToken } from '../api/token-store.ts';
import { BOT_TENANT, type BotTenantResource } from '../core/bot-tenant/resource.ts';
import { loadConfig } from '../core/config.ts';
import { createDatabasePools, createTokenAdminPool, type DatabasePools } from '../core/db/pools.ts';
import { createWithTenant } from '../core/db/with-tenant.ts';
import { createKubeClients } from '../core/kubernetes/clients.ts';
import { createKubernetesPodRuntime } from '../core/kubernetes/pod-runtime.ts';
import { createObjectStoreClient } from '../core/object-store.ts';
import type { PodRuntime } from '../core/pod-runtime.ts';
import { connectTemporalClient } from '../core/temporal/client.ts';
import { createTestNamespace, installCrds, testKubeConfig } from './support/kube.ts';

const config = loadConfig();
const s3 = createObjectStoreClient(config.s3);
const { group, version, plural } = BOT_TENANT;
let pools: DatabasePools;
let tokenPool: DatabasePool;
let temporal: Client;
let kubeconfig: KubeConfig;
let namespace: string;
let platformToken: string;
const apis: { stop: () => Promise<void> }[] = [];

const startApi = async (podRuntime: PodRuntime) => {
  const instance = createApp({
    config: { ...config, api: { ...config.api, rateLimit: { ...config.api.rateLimit, scope: randomUUID() } } },
    pools, tokenPool, withTenant: createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 }), logger: pino({ level: 'silent' }),
    temporalHealthy: async () => true, temporal: async () => temporal, s3, podRuntime,
  });
  const server = await instance.start(0, '127.0.0.1');
  apis.push({ stop: () => instance.stop() });
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/api/v1`;
  return (body: unknown) => fetch(`${url}/tenants`, {
    method: 'POST', headers: { authorization: `Bearer ${platformToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
};

const tenantRows = (slug: string) =>
  pools.maintenance.anyFirst(sql.type(z.object({ id: z.uuid() }))`SELECT id FROM tenants WHERE slug = ${slug}`);

const botTenants = async () => (await kubeconfig.makeApiClient(CustomObjectsApi)
  .listNamespacedCustomObject({ group, version, namespace, plural }) as { items: BotTenantResource[] }).items;

beforeAll(async () => {
  temporal = await connectTemporalClient(config.temporal);
  pools = await createDatabasePools(config.database);
  tokenPool = await createTokenAdminPool(config.database);
  platformToken = (await issueToken(tokenPool, { tenantId: null, name: 'door', expiresAt: null, actor: 'test' }))!.token;
  kubeconfig = testKubeConfig();
  await installCrds(kubeconfig);
  namespace = await createTestNamespace(kubeconfig, 'door');
});

afterAll(async () => {
  await Promise.all(apis.map((api) => api.stop()));
  await Promise.all([pools.end(), tokenPool.end(), temporal.connection.close()]);
  s3.destroy();
});

it('creates the tenant and its BotTenant, which the Kubernetes runtime then reports', async () => {
  const runtime = createKubernetesPodRuntime(createKubeClients(kubeconfig, namespace));
  const createTenant = await startApi(runtime);
  const slug = `door-${randomUUID().slice(0, 8)}`;
  const response = await createTenant({ name: 'Door Ltd', slug });
  expect(response.status).toBe(201);
  const { id } = await response.json() as { id: string };

  const [resource] = (await botTenants()).filter((item) => item.spec.tenantId === id);
  expect(resource).toMatchObject({ metadata: { name: slug }, spec: { tenantId: id, displayName: 'Door Ltd', transport: 'baileys', paused: false } });
  expect(await runtime.podStatus(id)).toEqual({ tenantId: id, phase: 'running', url: null, restarts: 0 });
  // Asked again (a retried request, the local stack's watcher), the runtime finds it and creates nothing.
  await runtime.ensurePod({ tenantId: id, slug, displayName: 'Door Ltd' });
  expect((await botTenants()).filter((item) => item.spec.tenantId === id)).toHaveLength(1);
});

it('refuses a slug whose BotTenant name another tenant holds, with 409 and no row', async () => {
  const createTenant = await startApi(createKubernetesPodRuntime(createKubeClients(kubeconfig, namespace)));
  const slug = `taken-${randomUUID().slice(0, 8)}`;
  // Applied with kubectl for another tenant, under the name the new tenant's slug would give.
  await kubeconfig.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
    group, version, namespace, plural,
    body: { apiVersion: BOT_TENANT.apiVersion, kind: BOT_TENANT.kind, metadata: { name: slug }, spec: { tenantId: randomUUID() } },
  });
  const response = await createTenant({ name: 'Late Ltd', slug });
  expect(response.status).toBe(409);
  expect(await response.json()).toMatchObject({ title: 'Conflict', detail: expect.stringContaining(slug) });
  expect(await tenantRows(slug)).toEqual([]);
});

it('answers 503 with Retry-After and creates no tenant while the Kubernetes API server is away', async () => {
  const away = new KubeConfig();
  away.loadFromOptions({
    clusters: [{ name: 'away', server: 'https://127.0.0.1:1', skipTLSVerify: true }],
    users: [{ name: 'away', token: 'none' }],
    contexts: [{ name: 'away', cluster: 'away', user: 'away' }],
    currentContext: 'away',
  });
  const createTenant = await startApi(createKubernetesPodRuntime(createKubeClients(away, namespace)));
  const slug = `away-${randomUUID().slice(0, 8)}`;
  const startedAt = Date.now();
  const response = await createTenant({ name: 'Away Ltd', slug });
  expect(response.status).toBe(503);
  expect(Date.now() - startedAt).toBeLessThan(5_000);
  expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
  expect(await tenantRows(slug)).toEqual([]);
});
