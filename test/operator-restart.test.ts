// The operator SIGKILLed in the middle of reconciling several new BotTenants, then started again:
// the cluster converges, with exactly one StatefulSet, Service and Secret per tenant and one
// finalizer on each BotTenant.
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { MANAGED_OBJECTS_SELECTOR } from '../core/bot-tenant/labels.ts';
import { processGroup } from './support/processes.ts';
import { createTestNamespace, installCrds, testKubeConfig } from './support/kube.ts';
import { createPlatformSecret, startOperator, testCluster, waitUntil, type TestCluster } from './support/operator.ts';

const TENANTS = 6;
const processes = processGroup();
let cluster: TestCluster;
let namespace: string;

beforeAll(async () => {
  const kubeconfig = testKubeConfig();
  await installCrds(kubeconfig);
  namespace = await createTestNamespace(kubeconfig, 'restart');
  await createPlatformSecret(kubeconfig, namespace);
  cluster = testCluster(kubeconfig, namespace);
  await processes.start(['worker/main.ts'], { readyText: 'worker started' });
}, 120_000);
afterAll(() => processes.stopAll());

const managed = async () => {
  const selector = { namespace, labelSelector: MANAGED_OBJECTS_SELECTOR };
  const names = (list: { items: { metadata?: { name?: string } }[] }) => list.items.map((item) => item.metadata!.name!).sort();
  return {
    statefulSets: names(await cluster.kube.apps.listNamespacedStatefulSet(selector)),
    services: names(await cluster.kube.core.listNamespacedService(selector)),
    secrets: names(await cluster.kube.core.listNamespacedSecret(selector)),
  };
};

it('converges after a SIGKILL mid-reconcile, with no duplicate objects, and stops cleanly on SIGTERM', async () => {
  const operator = await startOperator(processes, namespace);
  const tenants = Array.from({ length: TENANTS }, () => randomUUID());
  await Promise.all(tenants.map((tenantId, index) => cluster.createBotTenant(`t${index}`, { tenantId })));
  // The first step of a pass is the finalizer: kill as soon as one appears, before the objects are applied.
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(10)) {
    const found = await Promise.all(tenants.map((_, index) => cluster.getBotTenant(`t${index}`)));
    if (found.some((tenant) => (tenant?.metadata.finalizers?.length ?? 0) > 0)) break;
  }
  operator.kill('SIGKILL');
  await once(operator, 'exit');
  const atKill = await managed();
  const statusesAtKill = (await Promise.all(tenants.map((_, index) => cluster.getBotTenant(`t${index}`)))).filter((tenant) => tenant?.status !== undefined).length;
  expect(statusesAtKill).toBeLessThan(TENANTS); // it was killed mid-reconcile

  const restartedAt = Date.now();
  const restarted = await startOperator(processes, namespace);
  const expected = tenants.map((tenantId) => `bot-${tenantId}`).sort();
  await waitUntil('every tenant converged', async () => {
    const found = await Promise.all(tenants.map((_, index) => cluster.getBotTenant(`t${index}`)));
    return found.every((tenant) => tenant?.status?.observedGeneration === tenant?.metadata.generation
      && tenant?.status?.conditions?.find((condition) => condition.type === 'Ready')?.reason === 'PodNotReady');
  }, 90_000);
  const convergedMs = Date.now() - restartedAt;

  expect(await managed()).toEqual({ statefulSets: expected, services: expected, secrets: expected });
  for (let index = 0; index < TENANTS; index += 1) {
    expect((await cluster.getBotTenant(`t${index}`))!.metadata.finalizers).toEqual(['botinteligente.io/snapshot-sessions']);
  }
  // SIGTERM: a clean stop that hands the Lease over at once.
  const stopping = Date.now();
  restarted.kill('SIGTERM');
  const [code] = await once(restarted, 'exit') as [number | null];
  expect(code).toBe(0);
  const lease = await cluster.kube.coordination.readNamespacedLease({ name: 'botinteligente-operator', namespace });
  expect(lease.spec!.holderIdentity).toBe('');
  process.stderr.write(`[figures] SIGTERM to exit: ${Date.now() - stopping} ms\n`);
  process.stderr.write(`[figures] at SIGKILL: ${atKill.statefulSets.length}/${TENANTS} StatefulSets, ${statusesAtKill}/${TENANTS} statuses; converged ${convergedMs} ms after the restart\n`);
}, 150_000);
