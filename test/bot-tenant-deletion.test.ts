// Deleting a BotTenant: the finalizer snapshots the tenant's sessions through its real bot pod
// (simulator transport) to the real S3 server before the StatefulSet goes; with the pod's S3
// unreachable the deletion is blocked and a condition says why.
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { Client } from '@temporalio/client';
import { restoreSessions } from '../bot-pods/session-snapshot.ts';
import { loadConfig } from '../core/config.ts';
import { loadKeyring } from '../core/crypto/keyring.ts';
import { createDatabasePools, type DatabasePools } from '../core/db/pools.ts';
import { createWithTenant, type WithTenant } from '../core/db/with-tenant.ts';
import { createObjectStoreClient } from '../core/object-store.ts';
import { tenantObjectLabels } from '../core/bot-tenant/labels.ts';
import { tenantPrefix } from '../core/object-keys.ts';
import { botTenantWorkflowId } from '../core/temporal/bot-tenant.ts';
import { connectTemporalClient } from '../core/temporal/client.ts';
import { freePort, startBotPod } from './support/bot-pod.ts';
import { startOperatorCluster, waitUntil, type TestCluster } from './support/operator.ts';
import { saveHistories } from './support/histories.ts';
import { processGroup } from './support/processes.ts';
import { seedTenant } from './support/tenant-fixture.ts';

const config = loadConfig();
const processes = processGroup();
const s3 = createObjectStoreClient(config.s3);
let pools: DatabasePools;
let withTenant: WithTenant;
let cluster: TestCluster;
let namespace: string;
let temporal: Client;

beforeAll(async () => {
  pools = await createDatabasePools(config.database);
  withTenant = createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 });
  temporal = await connectTemporalClient(config.temporal);
  ({ namespace, cluster } = await startOperatorCluster(processes, 'deletion'));
}, 120_000);
afterAll(async () => {
  await processes.stopAll();
  await temporal.connection.close();
  await pools.end();
  s3.destroy();
});

const statefulSetOf = (tenantId: string) => cluster.kube.apps.readNamespacedStatefulSet({ name: `bot-${tenantId}`, namespace }).catch(() => null);
const snapshotsOf = async (tenantId: string) => (await s3.send(new ListObjectsV2Command({
  Bucket: config.s3.bucket, Prefix: `${tenantPrefix(tenantId)}sessions/`,
}))).Contents?.map((object) => object.Key!) ?? [];
/** The activities the tenant's workflow ran, in order. */
const activitiesRun = async (tenantId: string) => (await temporal.workflow.getHandle(botTenantWorkflowId(tenantId)).fetchHistory()).events!
  .flatMap((event) => event.activityTaskScheduledEventAttributes?.activityType?.name ?? []);

/** A tenant with a bot, its real bot pod, and its BotTenant converged. */
const tenantWithPod = async (name: string, podEnv?: Record<string, string>) => {
  const tenant = await seedTenant(withTenant);
  const pod = await startBotPod(processes, tenant.tenantId, podEnv === undefined ? {} : { env: podEnv });
  // A paired bot's session file, as Baileys leaves it on the volume (the simulator writes none).
  mkdirSync(join(pod.dataDir, 'sessions', tenant.botId), { recursive: true });
  writeFileSync(join(pod.dataDir, 'sessions', tenant.botId, 'creds.json'), JSON.stringify({ tenantId: tenant.tenantId }));
  await cluster.createBotTenant(name, { tenantId: tenant.tenantId, transport: 'simulator' });
  await waitUntil('the StatefulSet', () => statefulSetOf(tenant.tenantId));
  await waitUntil('the finalizer', async () => ((await cluster.getBotTenant(name))?.metadata.finalizers?.length ?? 0) > 0);
  return { tenantId: tenant.tenantId, botId: tenant.botId };
};

describe('deleting a BotTenant', () => {
  it('snapshots the sessions to S3 first, then removes the StatefulSet, its Service and Secret, then the finalizer', async () => {
    const { tenantId, botId } = await tenantWithPod('deleted');
    const started = Date.now();
    await cluster.deleteBotTenant('deleted');
    await waitUntil('the BotTenant gone', async () => await cluster.getBotTenant('deleted') === null);
    const deletionMs = Date.now() - started;

    expect(await statefulSetOf(tenantId)).toBeNull();
    await expect(cluster.kube.core.readNamespacedService({ name: `bot-${tenantId}`, namespace })).rejects.toMatchObject({ code: 404 });
    await expect(cluster.kube.core.readNamespacedSecret({ name: `bot-${tenantId}`, namespace })).rejects.toMatchObject({ code: 404 });
    const [objectKey, ...more] = await snapshotsOf(tenantId);
    expect(more).toEqual([]);
    const restoredDir = join(mkdtempSync(join(tmpdir(), 'restored-')), 'sessions');
    const restored = await restoreSessions({ sessionsDir: restoredDir, s3, bucket: config.s3.bucket, objectKey: objectKey!, keyring: loadKeyring(config.encryption) });
    expect(restored.files).toBe(1);
    expect(JSON.parse(readFileSync(join(restoredDir, botId, 'creds.json'), 'utf8'))).toEqual({ tenantId });
    const activities = await activitiesRun(tenantId);
    expect(activities.indexOf('snapshotSessions')).toBeGreaterThan(-1);
    expect(activities.indexOf('snapshotSessions')).toBeLessThan(activities.indexOf('deleteBotPodObjects'));
    expect(activities.indexOf('deleteBotPodObjects')).toBeLessThan(activities.indexOf('removeBotTenantFinalizer'));
    process.stderr.write(`[figures] deletion with snapshot: ${deletionMs} ms, ${restored.files} session files\n`);
    await saveHistories(config, temporal, botTenantWorkflowId(tenantId), 'bot-tenant-deleted');
  }, 120_000);

  it('is blocked, with Degraded=True SnapshotFailed saying why, while the pod cannot reach S3; Skip unblocks it', async () => {
    const closedPort = await freePort();
    const { tenantId } = await tenantWithPod('blocked', { S3_ENDPOINT: `http://127.0.0.1:${closedPort}` });
    await cluster.deleteBotTenant('blocked');
    const degraded = await waitUntil('SnapshotFailed', async () => {
      const condition = await cluster.condition('blocked', 'Degraded');
      return condition?.reason === 'SnapshotFailed' ? condition : null;
    });
    expect(degraded.status).toBe('True');
    expect(degraded.message).toMatch(/^Deletion is blocked: the sessions snapshot failed: .+/);
    process.stderr.write(`[figures] SnapshotFailed message: ${degraded.message}\n`);
    expect(await cluster.condition('blocked', 'Ready')).toMatchObject({ status: 'False', reason: 'Deleting' });
    const blocked = (await cluster.getBotTenant('blocked'))!;
    expect(blocked.metadata.deletionTimestamp).toBeDefined();
    expect(blocked.metadata.finalizers).toEqual(['botinteligente.io/snapshot-sessions']);
    expect(await statefulSetOf(tenantId)).not.toBeNull();
    expect(await snapshotsOf(tenantId)).toEqual([]);

    await cluster.patchBotTenant('blocked', [{ op: 'replace', path: '/spec/onDelete/snapshot', value: 'Skip' }]);
    await waitUntil('the BotTenant gone', async () => await cluster.getBotTenant('blocked') === null);
    expect(await statefulSetOf(tenantId)).toBeNull();
  }, 120_000);
});

describe('the sessions volume on deletion', () => {
  /** The claim the StatefulSet controller would have made from the template (no controller runs here). */
  const claimFor = async (tenantId: string) => cluster.kube.core.createNamespacedPersistentVolumeClaim({
    namespace,
    body: {
      metadata: { name: `sessions-bot-${tenantId}-0`, labels: tenantObjectLabels(tenantId) },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    },
  });
  const claimOf = (tenantId: string) => cluster.kube.core.readNamespacedPersistentVolumeClaim({ name: `sessions-bot-${tenantId}-0`, namespace }).catch(() => null);

  it('is deleted with onDelete.volume Delete and kept with Retain', async () => {
    const [deleted, retained] = [randomUUID(), randomUUID()];
    for (const [tenantId, volume] of [[deleted, 'Delete'], [retained, 'Retain']] as const) {
      await claimFor(tenantId);
      await cluster.createBotTenant(`volume-${volume.toLowerCase()}`, { tenantId, onDelete: { snapshot: 'Skip', volume } });
      await waitUntil('the finalizer', async () => ((await cluster.getBotTenant(`volume-${volume.toLowerCase()}`))?.metadata.finalizers?.length ?? 0) > 0);
      await cluster.deleteBotTenant(`volume-${volume.toLowerCase()}`);
      await waitUntil('the BotTenant gone', async () => await cluster.getBotTenant(`volume-${volume.toLowerCase()}`) === null);
    }
    // Deleted: gone, or held only by the API server's pvc-protection finalizer (no controller here releases it).
    const claim = await claimOf(deleted);
    expect(claim === null || claim.metadata!.deletionTimestamp !== undefined).toBe(true);
    expect((await claimOf(retained))!.metadata!.deletionTimestamp).toBeUndefined();
    expect(await snapshotsOf(deleted)).toEqual([]);
  }, 60_000);
});
