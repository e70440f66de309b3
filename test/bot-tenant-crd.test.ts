// The BotTenant CRD on a real API server: defaults, validation, the status subresource and the
// printer columns a platform engineer sees in `kubectl get bottenants`.
import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { beforeAll, expect, test } from '@jest/globals';
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { loadConfig } from '../core/config.ts';
import { createTestNamespace, installCrds, testKubeConfig } from './support/kube.ts';

const group = 'botinteligente.io';
const version = 'v1alpha1';
const plural = 'bottenants';

let kubeconfig: KubeConfig;
let namespace: string;
let objects: CustomObjectsApi;

beforeAll(async () => {
  kubeconfig = testKubeConfig();
  await installCrds(kubeconfig);
  namespace = await createTestNamespace(kubeconfig, 'crd');
  objects = kubeconfig.makeApiClient(CustomObjectsApi);
});

const create = (name: string, spec: Record<string, unknown>) =>
  objects.createNamespacedCustomObject({ group, version, namespace, plural, body: { apiVersion: `${group}/${version}`, kind: 'BotTenant', metadata: { name }, spec } });

const rejection = async (promise: Promise<unknown>) => {
  const error = await promise.then(() => null, (caught: unknown) => caught as { code?: number; body?: string });
  if (error === null) throw new Error('the API server accepted it');
  return { code: error.code, message: JSON.parse(error.body ?? '{}').message as string };
};

test('a minimal BotTenant gets every default', async () => {
  const tenantId = randomUUID();
  const created = await create('minimal', { tenantId }) as { spec: Record<string, unknown> };
  expect(created.spec).toEqual({
    tenantId,
    transport: 'baileys',
    paused: false,
    storage: { size: '1Gi' },
    resources: { requests: { cpu: '50m', memory: '160Mi' }, limits: { memory: '512Mi' } },
    onDelete: { snapshot: 'Required', volume: 'Retain' },
  });
});

test.each([
  ['a tenant id that is no UUID', { tenantId: 'acme' }, 'spec.tenantId'],
  ['an unknown transport', { tenantId: randomUUID(), transport: 'telegram' }, 'spec.transport'],
  ['a storage size without a unit', { tenantId: randomUUID(), storage: { size: '10' } }, 'spec.storage.size'],
  ['an unknown snapshot policy', { tenantId: randomUUID(), onDelete: { snapshot: 'Maybe' } }, 'spec.onDelete.snapshot'],
  ['a missing tenant id', {}, 'spec.tenantId'],
])('%s is refused with the field named', async (_name, spec, field) => {
  const refused = await rejection(create(`bad-${randomUUID().slice(0, 8)}`, spec));
  expect(refused.code).toBe(422);
  expect(refused.message).toContain(field);
});

test('the tenant id cannot change', async () => {
  await create('fixed', { tenantId: randomUUID() });
  const refused = await rejection(objects.patchNamespacedCustomObject({
    group, version, namespace, plural, name: 'fixed', body: [{ op: 'replace', path: '/spec/tenantId', value: randomUUID() }],
  }));
  expect(refused.code).toBe(422);
  expect(refused.message).toContain('tenantId is immutable');
});

test('kubectl shows the tenant, readiness and bots columns from the status subresource', async () => {
  const tenantId = randomUUID();
  await create('shown', { tenantId });
  await objects.replaceNamespacedCustomObjectStatus({
    group, version, namespace, plural, name: 'shown',
    body: {
      apiVersion: `${group}/${version}`, kind: 'BotTenant',
      metadata: { name: 'shown', resourceVersion: (await objects.getNamespacedCustomObject({ group, version, namespace, plural, name: 'shown' }) as { metadata: { resourceVersion: string } }).metadata.resourceVersion },
      spec: { tenantId },
      status: { observedGeneration: 1, connectedBots: 2, conditions: [{ type: 'Ready', status: 'True', reason: 'PodReady', message: 'ok', lastTransitionTime: new Date().toISOString() }] },
    },
  });
  const config = loadConfig();
  const table = execFileSync(`${config.stack.toolsDir}/bin/kubectl`, ['--kubeconfig', config.kubernetes.configFile!, '-n', namespace, 'get', 'bottenants', 'shown'], { encoding: 'utf8' });
  const [header, row] = table.trim().split('\n');
  expect(header!.split(/\s+/)).toEqual(['NAME', 'TENANT', 'READY', 'REASON', 'BOTS', 'PAUSED', 'AGE']);
  expect(row!.split(/\s+/).slice(0, 6)).toEqual(['shown', tenantId, 'True', 'PodReady', '2', 'false']);
});
