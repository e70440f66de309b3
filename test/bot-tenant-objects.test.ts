// The pure pieces of the tenant reconcile, without any server: the objects built from a BotTenant,
// the conditions, the Lease timing rules, the tenant slug and the BotTenant of the API's door.
import { describe, expect, it } from '@jest/globals';
import { computeConditions, statusChanged, type ReconcileObservation } from '../core/bot-tenant/conditions.ts';
import { tenantObjectLabels } from '../core/bot-tenant/labels.ts';
import { botTenantFor } from '../core/bot-tenant/new-bot-tenant.ts';
import { botTenantSpec, type BotTenantResource } from '../core/bot-tenant/resource.ts';
import { desiredSecret, secretChecksum } from '../core/bot-tenant/secret.ts';
import { desiredService } from '../core/bot-tenant/service.ts';
import { desiredStatefulSet, storageOf } from '../core/bot-tenant/stateful-set.ts';
import { tenantSlugCandidates } from '../core/bot-tenant/tenant-slug.ts';
import { decideLease } from '../operator/lease-decision.ts';

const tenantId = '7d4a1c2e-5b6f-4a8b-9c0d-1e2f3a4b5c6d';
const botTenant = (spec: Record<string, unknown> = {}): BotTenantResource => ({
  apiVersion: 'botinteligente.io/v1alpha1', kind: 'BotTenant',
  metadata: { name: 'acme', namespace: 'bots', uid: 'uid-1', generation: 3, resourceVersion: '10' },
  spec: botTenantSpec.parse({ tenantId, ...spec }),
});

describe('the bot pod objects', () => {
  it('a StatefulSet of one hardened replica with its sessions volume, owned by the BotTenant', () => {
    const set = desiredStatefulSet(botTenant({
      storage: { size: '5Gi', storageClassName: 'fast' }, transport: 'simulator',
      resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1', memory: '1Gi' } },
    }), { image: 'registry.example/bi:1', secretChecksum: 'abc' });
    expect(set.metadata).toMatchObject({ name: `bot-${tenantId}`, namespace: 'bots', labels: tenantObjectLabels(tenantId) });
    expect(set.metadata!.ownerReferences).toEqual([{ apiVersion: 'botinteligente.io/v1alpha1', kind: 'BotTenant', name: 'acme', uid: 'uid-1', controller: true, blockOwnerDeletion: true }]);
    expect(set.spec!.replicas).toBe(1);
    expect(set.spec!.serviceName).toBe(`bot-${tenantId}`);
    expect(set.spec!.volumeClaimTemplates).toEqual([{
      metadata: { name: 'sessions', labels: tenantObjectLabels(tenantId) },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '5Gi' } }, storageClassName: 'fast' },
    }]);
    const pod = set.spec!.template.spec!;
    expect(set.spec!.template.metadata!.annotations).toEqual({ 'botinteligente.io/secret-checksum': 'abc' });
    expect(pod).toMatchObject({
      serviceAccountName: 'bot-pod', automountServiceAccountToken: false,
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    });
    const [container] = pod.containers;
    expect(container).toMatchObject({
      // The pod's memory settings (docs/bot-pods.md#memory), as the local pod runtime starts it.
      image: 'registry.example/bi:1', command: ['node', '--v8-pool-size=1', '--optimize-for-size', '--max-semi-space-size=1', 'bot-pods/pod.ts'],
      envFrom: [{ configMapRef: { name: 'botinteligente-config' } }, { secretRef: { name: `bot-${tenantId}` } }],
      resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1', memory: '1Gi' } },
      securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
      livenessProbe: { httpGet: { path: '/health/live', port: 'http' } },
      readinessProbe: { httpGet: { path: '/health/ready', port: 'http' } },
    });
    expect(Object.fromEntries(container!.env!.map(({ name, value }) => [name, value]))).toEqual({
      BOT_POD_TENANT_ID: tenantId, BOT_POD_DATA_DIR: '/data', BOT_POD_TRANSPORT: 'simulator', BOT_POD_HTTP_HOST: '0.0.0.0', BOT_POD_HTTP_PORT: '8090',
      MALLOC_ARENA_MAX: '2', NODE_COMPILE_CACHE: 'node_modules/.cache/bot-pod-compile-cache',
    });
    expect(container!.env!.some(({ name }) => name.startsWith('DATABASE_'))).toBe(false);
    expect(container!.volumeMounts).toContainEqual({ name: 'sessions', mountPath: '/data' });
  });

  it('a paused tenant runs no replica; the storage of an existing StatefulSet is kept (claim templates are immutable)', () => {
    const existing = desiredStatefulSet(botTenant(), { image: 'i', secretChecksum: 'a' });
    expect(storageOf(existing)).toEqual({ size: '1Gi' });
    const edited = desiredStatefulSet(botTenant({ paused: true, storage: { size: '9Gi' } }), { image: 'i', secretChecksum: 'a', existingStorage: storageOf(existing)! });
    expect(edited.spec!.replicas).toBe(0);
    expect(edited.spec!.volumeClaimTemplates![0]!.spec!.resources!.requests).toEqual({ storage: '1Gi' });
  });

  it('a headless Service on the pod port, and a Secret copied without any database variable', () => {
    expect(desiredService(botTenant()).spec).toEqual({
      clusterIP: 'None', selector: { 'app.kubernetes.io/component': 'bot-pod', 'botinteligente.io/tenant-id': tenantId },
      ports: [{ name: 'http', port: 8090, targetPort: 'http', protocol: 'TCP' }],
    });
    const secret = desiredSecret(botTenant(), { S3_SECRET_ACCESS_KEY: 'czM=', DATABASE_URL: 'cGc=', ENCRYPTION_KEYS: 'aw==' });
    expect(secret.data).toEqual({ ENCRYPTION_KEYS: 'aw==', S3_SECRET_ACCESS_KEY: 'czM=' });
    expect(secretChecksum(secret)).toMatch(/^[0-9a-f]{64}$/);
    expect(secretChecksum(desiredSecret(botTenant(), { S3_SECRET_ACCESS_KEY: 'bmV3', ENCRYPTION_KEYS: 'aw==' }))).not.toBe(secretChecksum(secret));
  });
});

describe('conditions', () => {
  const observation = (changes: Partial<ReconcileObservation> = {}): ReconcileObservation => ({
    generation: 3, paused: false, deleting: false, applyError: null, tenantLinkError: null, snapshotError: null,
    statefulSet: { generation: 1, observedGeneration: 1, replicas: 1, readyReplicas: 0 }, ...changes,
  });
  const byType = (conditions: ReturnType<typeof computeConditions>) => Object.fromEntries(conditions.map((c) => [c.type, [c.status, c.reason]]));

  it('name the state with the documented reasons', () => {
    expect(byType(computeConditions(observation(), undefined, 't0'))).toEqual({
      Ready: ['False', 'PodNotReady'], Progressing: ['True', 'WaitingForPod'], Degraded: ['False', 'AsExpected'],
    });
    expect(byType(computeConditions(observation({ statefulSet: { generation: 2, observedGeneration: 2, replicas: 1, readyReplicas: 1 } }), undefined, 't0'))).toEqual({
      Ready: ['True', 'PodReady'], Progressing: ['False', 'Converged'], Degraded: ['False', 'AsExpected'],
    });
    expect(byType(computeConditions(observation({ statefulSet: null, applyError: 'boom' }), undefined, 't0'))).toMatchObject({
      Progressing: ['True', 'Applying'], Degraded: ['True', 'ApplyFailed'],
    });
    expect(byType(computeConditions(observation({ paused: true }), undefined, 't0'))).toMatchObject({ Ready: ['False', 'Paused'], Progressing: ['False', 'Converged'] });
    expect(byType(computeConditions(observation({ deleting: true, snapshotError: 'S3 down' }), undefined, 't0'))).toMatchObject({
      Ready: ['False', 'Deleting'], Degraded: ['True', 'SnapshotFailed'],
    });
    expect(byType(computeConditions(observation({ tenantLinkError: 'no db' }), undefined, 't0'))).toMatchObject({ Degraded: ['True', 'TenantLinkFailed'] });
    expect(computeConditions(observation({ deleting: true, snapshotError: 'S3 down' }), undefined, 't0')[2]!.message).toContain('S3 down');
  });

  it('keep lastTransitionTime while the status stays, and carry the generation', () => {
    const first = computeConditions(observation(), undefined, 't0');
    const again = computeConditions(observation({ generation: 4 }), first, 't1');
    expect(again.map((c) => [c.lastTransitionTime, c.observedGeneration])).toEqual([['t0', 4], ['t0', 4], ['t0', 4]]);
    const ready = computeConditions(observation({ statefulSet: { generation: 1, observedGeneration: 1, replicas: 1, readyReplicas: 1 } }), first, 't2');
    expect(ready.map((c) => c.lastTransitionTime)).toEqual(['t2', 't2', 't0']);
    expect(statusChanged({ observedGeneration: 3, conditions: first }, { observedGeneration: 3, conditions: [...first].reverse() })).toBe(false);
    expect(statusChanged({ observedGeneration: 3, conditions: first }, { observedGeneration: 4, conditions: first })).toBe(true);
  });
});

describe('leader election timing', () => {
  const at = (seconds: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, seconds));
  it('creates, renews its own, follows a live leader and takes over an expired or released Lease', () => {
    expect(decideLease(null, 'a', at(0))).toBe('create');
    expect(decideLease({ holder: 'a', renewTime: at(0), durationSeconds: 15 }, 'a', at(50))).toBe('renew');
    expect(decideLease({ holder: 'b', renewTime: at(0), durationSeconds: 15 }, 'a', at(15))).toBe('follow');
    expect(decideLease({ holder: 'b', renewTime: at(0), durationSeconds: 15 }, 'a', at(16))).toBe('acquire');
    expect(decideLease({ holder: '', renewTime: at(0), durationSeconds: 1 }, 'a', at(0))).toBe('acquire');
  });
});

describe('the two doors', () => {
  it('a kubectl-made tenant gets a slug from the resource name, and another when it is taken', () => {
    expect(tenantSlugCandidates('acme-store', tenantId)).toEqual(['acme-store', 'acme-store-7d4a1c2e', `tenant-${tenantId}`]);
    expect(tenantSlugCandidates('Acme.Store', tenantId)[0]).toBe('acme-store');
    expect(tenantSlugCandidates('x'.repeat(80), tenantId).every((slug) => slug.length <= 63)).toBe(true);
  });

  it('a tenant made through the API gets the BotTenant kubectl would apply', () => {
    expect(botTenantFor({ tenantId, slug: 'acme-', displayName: 'Acme', namespace: 'bots' })).toEqual({
      apiVersion: 'botinteligente.io/v1alpha1', kind: 'BotTenant',
      metadata: { name: 'acme', namespace: 'bots', labels: { 'botinteligente.io/tenant-id': tenantId } },
      spec: { tenantId, displayName: 'Acme' },
    });
  });
});
