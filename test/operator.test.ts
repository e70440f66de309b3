// The operator end to end: `node operator/main.ts` and the platform worker as processes, a real
// kube-apiserver (no kubelet: no pod ever runs, so readiness is simulated on the StatefulSet's status
// subresource), Temporal, Postgres and S3. A BotTenant becomes a StatefulSet, Service and Secret;
// spec edits and hand-made drift converge; kubectl's door links or creates the tenant row.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Client } from '@temporalio/client';
import { PatchStrategy, setHeaderOptions, type V1StatefulSet } from '@kubernetes/client-node';
import { sql } from 'slonik';
import { z } from 'zod';
import { loadConfig } from '../core/config.ts';
import { createDatabasePools, type DatabasePools } from '../core/db/pools.ts';
import { createWithTenant, type WithTenant } from '../core/db/with-tenant.ts';
import { BOT_TENANT_FINALIZER } from '../core/bot-tenant/resource.ts';
import {
  BOT_TENANT_WORKFLOW, botTenantChangedSignal, botTenantWorkflowId, type BotTenantRef,
} from '../core/temporal/bot-tenant.ts';
import type * as workflows from '../workflows/index.ts';
import { connectTemporalClient } from '../core/temporal/client.ts';
import { TENANT_ID } from '../core/temporal/search-attributes.ts';
import { processGroup } from './support/processes.ts';
import { operatorEnvironment, startOperatorCluster, waitUntil, type TestCluster } from './support/operator.ts';

const config = loadConfig();
const processes = processGroup();
let pools: DatabasePools;
let withTenant: WithTenant;
let cluster: TestCluster;
let namespace: string;
let temporal: Client;

beforeAll(async () => {
  pools = await createDatabasePools(config.database);
  withTenant = createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 });
  temporal = await connectTemporalClient(config.temporal);
  ({ namespace, cluster } = await startOperatorCluster(processes, 'operator'));
}, 120_000);
afterAll(async () => {
  await processes.stopAll();
  await temporal.connection.close();
  await pools.end();
});

const statefulSetOf = (tenantId: string) => cluster.kube.apps.readNamespacedStatefulSet({ name: `bot-${tenantId}`, namespace }).catch(() => null);
const tenantRow = (tenantId: string) => withTenant(tenantId, (tx) => tx.maybeOne(sql.type(z.object({ name: z.string(), slug: z.string() }))`SELECT name, slug FROM tenants WHERE id = ${tenantId}`));
const reasonOf = async (name: string, type: 'Ready' | 'Progressing' | 'Degraded') => {
  const condition = await cluster.condition(name, type);
  return condition === undefined ? null : `${condition.status}/${condition.reason}`;
};
/** What a kubelet would report once the pod answers /health/ready. */
const reportReady = async (set: V1StatefulSet) => {
  await cluster.kube.apps.patchNamespacedStatefulSetStatus({
    name: set.metadata!.name!, namespace,
    body: { status: { replicas: 1, readyReplicas: 1, availableReplicas: 1, currentReplicas: 1, updatedReplicas: 1, observedGeneration: set.metadata!.generation } },
  }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
};

describe('a BotTenant applied with kubectl', () => {
  const tenantId = randomUUID();
  const name = `acme-${tenantId.slice(0, 8)}`;

  it('gets its StatefulSet, Service and Secret, a finalizer, a new tenant row, and Ready=False PodNotReady', async () => {
    await cluster.createBotTenant(name, { tenantId, displayName: 'Acme Kube', transport: 'simulator' });
    const set = await waitUntil('the StatefulSet', () => statefulSetOf(tenantId));
    expect(set.spec!.replicas).toBe(1);
    expect(set.metadata!.labels).toMatchObject({ 'botinteligente.io/tenant-id': tenantId, 'app.kubernetes.io/managed-by': 'botinteligente-operator' });
    expect(set.metadata!.ownerReferences).toEqual([expect.objectContaining({ kind: 'BotTenant', name, controller: true })]);
    expect(set.metadata!.managedFields!.map((field) => field.manager)).toContain('botinteligente');
    expect(set.spec!.volumeClaimTemplates![0]!.spec!.resources!.requests).toEqual({ storage: '1Gi' });
    const container = set.spec!.template.spec!.containers[0]!;
    expect(container.env).toContainEqual({ name: 'BOT_POD_TRANSPORT', value: 'simulator' });

    const service = await waitUntil('the Service', () => cluster.kube.core.readNamespacedService({ name: `bot-${tenantId}`, namespace }));
    expect(service.spec!.clusterIP).toBe('None');
    const secret = await waitUntil('the Secret', () => cluster.kube.core.readNamespacedSecret({ name: `bot-${tenantId}`, namespace }));
    expect(Object.keys(secret.data ?? {})).toEqual(['S3_SECRET_ACCESS_KEY']);

    await waitUntil('Ready=False PodNotReady', async () => await reasonOf(name, 'Ready') === 'False/PodNotReady');
    const tenant = (await cluster.getBotTenant(name))!;
    expect(tenant.metadata.finalizers).toEqual([BOT_TENANT_FINALIZER]);
    expect(tenant.status!.observedGeneration).toBe(tenant.metadata.generation);
    expect(await reasonOf(name, 'Degraded')).toBe('False/AsExpected');
    expect(await tenantRow(tenantId)).toEqual({ name: 'Acme Kube', slug: name });

    // Settled: its own writes (status, a no-op apply) must not wake it again and again.
    const historyLength = async () => (await temporal.workflow.getHandle(botTenantWorkflowId(tenantId)).fetchHistory()).events!.length;
    await sleep(1_000);
    const settled = await historyLength();
    await sleep(3_000);
    expect(await historyLength()).toBe(settled);
    const description = await temporal.workflow.getHandle(botTenantWorkflowId(tenantId)).describe();
    expect(description.typedSearchAttributes.get(TENANT_ID)).toBe(tenantId);
  }, 90_000);

  it('is Ready=True PodReady once the StatefulSet reports a ready replica', async () => {
    await reportReady((await statefulSetOf(tenantId))!);
    await waitUntil('Ready=True PodReady', async () => await reasonOf(name, 'Ready') === 'True/PodReady');
    expect(await reasonOf(name, 'Progressing')).toBe('False/Converged');
  }, 60_000);

  it('an edited spec reaches the StatefulSet, and observedGeneration follows the generation', async () => {
    await cluster.patchBotTenant(name, [
      { op: 'replace', path: '/spec/resources/limits/memory', value: '768Mi' },
      { op: 'replace', path: '/spec/paused', value: true },
    ]);
    const set = await waitUntil('the paused StatefulSet', async () => {
      const found = await statefulSetOf(tenantId);
      return found?.spec!.replicas === 0 ? found : null;
    });
    expect(set.spec!.template.spec!.containers[0]!.resources!.limits).toEqual({ memory: '768Mi' });
    const tenant = await waitUntil('the new generation observed', async () => {
      const found = (await cluster.getBotTenant(name))!;
      return found.status?.observedGeneration === found.metadata.generation ? found : null;
    });
    expect(tenant.metadata.generation).toBe(2);
    expect(await reasonOf(name, 'Ready')).toBe('False/Paused');
  }, 60_000);

  it('a StatefulSet deleted by hand comes back, and a hand edit is taken back', async () => {
    const before = (await statefulSetOf(tenantId))!;
    await cluster.kube.apps.deleteNamespacedStatefulSet({ name: `bot-${tenantId}`, namespace });
    const after = await waitUntil('the StatefulSet back', async () => {
      const found = await statefulSetOf(tenantId);
      return found !== null && found.metadata!.uid !== before.metadata!.uid ? found : null;
    });
    expect(after.spec!.replicas).toBe(0);

    // kubectl edit: the editor takes the field over; the forced apply takes it back.
    await cluster.kube.apps.patchNamespacedStatefulSet({ name: `bot-${tenantId}`, namespace, body: [{ op: 'replace', path: '/spec/replicas', value: 3 }] });
    await waitUntil('replicas taken back', async () => (await statefulSetOf(tenantId))?.spec!.replicas === 0);
    await cluster.kube.core.patchNamespacedService({
      name: `bot-${tenantId}`, namespace, body: [{ op: 'replace', path: '/spec/ports/0/port', value: 9999 }],
    });
    await waitUntil('the Service port restored', async () => {
      const ports = (await cluster.kube.core.readNamespacedService({ name: `bot-${tenantId}`, namespace })).spec!.ports!;
      return ports.length === 1 && ports[0]!.port === 8090;
    });
    await waitUntil('nothing degraded', async () => await reasonOf(name, 'Degraded') === 'False/AsExpected');
  }, 60_000);
});

describe('a BotTenant for a tenant the database already has', () => {
  it('links to the row and leaves its business data alone', async () => {
    const tenantId = randomUUID();
    await withTenant(tenantId, (tx) => tx.query(sql.unsafe`INSERT INTO tenants (id, name, slug) VALUES (${tenantId}, 'Existing Co', ${`existing-${tenantId.slice(0, 8)}`})`));
    const name = `linked-${tenantId.slice(0, 8)}`;
    await cluster.createBotTenant(name, { tenantId, displayName: 'Another Name' });
    await waitUntil('the StatefulSet', () => statefulSetOf(tenantId));
    await waitUntil('a status', async () => await reasonOf(name, 'Degraded') === 'False/AsExpected');
    expect(await tenantRow(tenantId)).toEqual({ name: 'Existing Co', slug: `existing-${tenantId.slice(0, 8)}` });
  }, 60_000);
});

describe('a long-lived tenant workflow', () => {
  it('continues as new and keeps converging', async () => {
    const tenantId = randomUUID();
    const name = `can-${tenantId.slice(0, 8)}`;
    const ref = { namespace, name, tenantId };
    // Started before the operator does, with a run of two passes.
    const handle = await temporal.workflow.signalWithStart<typeof workflows.botTenantReconcile, [BotTenantRef]>(BOT_TENANT_WORKFLOW, {
      workflowId: botTenantWorkflowId(tenantId), taskQueue: config.temporal.taskQueue,
      args: [{ ...ref, operatorTaskQueue: operatorEnvironment(namespace).OPERATOR_TASK_QUEUE, passesPerRun: 2 }],
      signal: botTenantChangedSignal, signalArgs: [ref],
    });
    await cluster.createBotTenant(name, { tenantId });
    await waitUntil('the StatefulSet', () => statefulSetOf(tenantId));
    await waitUntil('a continued run', async () => (await temporal.workflow.getHandle(botTenantWorkflowId(tenantId)).describe()).runId !== handle.signaledRunId);
    const first = await temporal.workflow.getHandle(botTenantWorkflowId(tenantId), handle.signaledRunId).fetchHistory();
    expect(first.events!.at(-1)!.workflowExecutionContinuedAsNewEventAttributes).toBeTruthy();

    await cluster.kube.apps.deleteNamespacedStatefulSet({ name: `bot-${tenantId}`, namespace });
    await waitUntil('the StatefulSet back, from the new run', () => statefulSetOf(tenantId));
  }, 60_000);
});
