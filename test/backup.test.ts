// Backups end to end on the real stack (Postgres, Temporal dev server, S3 server, bot pods on the
// simulator): backup → restore into a fresh database equal table by table; the weekly drill;
// every way a backup can be damaged refused before any database is touched; the S3 server dying
// mid-upload; sessions of two tenants restored byte-identical; the approval-gated live restore.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { type Client, WorkflowFailedError } from '@temporalio/client';
import pg from 'pg';
import { createPool, sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { readCatalog } from '../activities/backups/catalog.ts';
import { dropDatabase } from '../activities/backups/restore-database.ts';
import { verifyBackup } from '../activities/backups/verify.ts';
import { openAuthStore } from '../bot-pods/auth-store.ts';
import { createWriteGate } from '../bot-pods/durable-file.ts';
import { restoreSessions } from '../bot-pods/session-snapshot.ts';
import { initAuthCreds } from '@whiskeysockets/baileys';
import { manifestKey } from '../core/object-keys.ts';
import { openManifest, type Manifest } from '../core/backups/manifest.ts';
import { planRetention } from '../core/backups/retention-plan.ts';
import { fingerprintTables } from '../core/backups/table-fingerprints.ts';
import { loadConfig } from '../core/config.ts';
import { loadKeyring } from '../core/crypto/keyring.ts';
import { withDatabaseName } from '../core/db/database-url.ts';
import { readMigrationFiles } from '../core/db/migrations.ts';
import { createDatabasePools, type DatabasePools } from '../core/db/pools.ts';
import { createWithTenant } from '../core/db/with-tenant.ts';
import { createObjectStoreClient } from '../core/object-store.ts';
import { APPROVE_RESTORE_SIGNAL, BACKUP_SCHEDULE_ID, DRILL_SCHEDULE_ID, RESTORE_PHASE_QUERY, restoreWorkflowId } from '../core/temporal/backups.ts';
import { connectTemporalClient } from '../core/temporal/client.ts';
import { startS3, stopS3 } from '../stack/s3.ts';
import { prepareBackupDatabase } from './support/backup-database.ts';
import { saveHistories } from './support/histories.ts';
import { startBotPod } from './support/bot-pod.ts';
import { processGroup } from './support/processes.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

// The schema the manifest records is the newest migration's number.
const LATEST_MIGRATION = Math.max(...readMigrationFiles(fileURLToPath(new URL('../migrations', import.meta.url))).map((file) => file.version));
const base = loadConfig();
const DATABASE = 'botinteligente_backup_test';
const TASK_QUEUE = 'backup-test';
const processes = processGroup();
const s3 = createObjectStoreClient(base.s3);
const keyring = loadKeyring(base.encryption);
const bucket = base.s3.bucket;
let env: Record<string, string>;
let config: ReturnType<typeof loadConfig>;
let pools: DatabasePools;
let client: Client;
const tenants: { graph: TenantGraph; sessionsDir: string }[] = [];
const LEADS_PER_TENANT = 500;
const createdDatabases: string[] = [];

const run = <T>(workflowType: string, args: unknown[], workflowId = `${workflowType}/${randomBytes(6).toString('hex')}`) =>
  client.workflow.execute(workflowType, { workflowId, taskQueue: TASK_QUEUE, args }) as Promise<T>;
type BackupResult = { backupId: string; manifestKey: string; totalBytes: number; missingSessions: string[] };
const backUp = (workflowId?: string) => run<BackupResult>('backupDatabase', [{ kind: 'manual' }], workflowId);

const readManifestOf = async (backupId: string): Promise<Manifest> =>
  openManifest(keyring, await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: manifestKey(backupId) }))).Body!.transformToString());
const objectBytes = async (key: string) => Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray());
const putObject = (key: string, body: Buffer | string) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));

const databases = async () => {
  const pool = await createPool(withDatabaseName(config.database.migrationUrl, 'postgres'), { maximumPoolSize: 1 });
  try {
    return [...await pool.anyFirst(sql.type(z.object({ datname: z.string() }))`SELECT datname FROM pg_database ORDER BY datname`)];
  } finally {
    await pool.end();
  }
};

const fingerprintsOf = async (database: string) => {
  const connection = new pg.Client({ connectionString: withDatabaseName(config.database.maintenanceUrl, database) });
  await connection.connect();
  try {
    await connection.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    return await fingerprintTables(connection, ['backups', 'backup_drills']);
  } finally {
    await connection.end();
  }
};

const catalogRow = (pool: DatabasePool, backupId: string) => pool.one(sql.type(z.object({
  status: z.string(), manifest_key: z.string().nullable(), verified_at: z.number().nullable(), failure: z.string().nullable(),
}))`SELECT status, manifest_key, verified_at, failure FROM backups WHERE id = ${backupId}`);

/** Baileys-shaped session files on a pod's volume, written before the pod starts. */
const writeSessions = async (dataDir: string, botId: string) => {
  const sessionsDir = join(dataDir, 'sessions');
  mkdirSync(sessionsDir, { recursive: true });
  const store = await openAuthStore(join(sessionsDir, botId), createWriteGate());
  Object.assign(store.state.creds, initAuthCreds());
  await store.saveCreds();
  await store.state.keys.set({ 'pre-key': { 1: { public: randomBytes(32), private: randomBytes(32) } }, session: { [`5511${botId.slice(0, 4)}.0`]: randomBytes(64) } });
  return sessionsDir;
};

const filesUnder = (root: string, prefix = ''): Record<string, string> => Object.fromEntries(
  readdirSync(join(root, prefix), { withFileTypes: true }).flatMap((entry) => {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    return entry.isDirectory() ? Object.entries(filesUnder(root, path)) : [[path, readFileSync(join(root, path)).toString('base64')]];
  }),
);

const failureOf = async (promise: Promise<unknown>): Promise<string> => {
  const error = await promise.then(() => null, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(WorkflowFailedError);
  return String((error as WorkflowFailedError).cause?.message);
};

beforeAll(async () => {
  ({ env, config } = await prepareBackupDatabase(base, DATABASE, {
    TEMPORAL_TASK_QUEUE: TASK_QUEUE, BACKUP_SCHEDULES_ENABLED: 'true', BACKUP_SESSIONS_TIMEOUT_SECONDS: '60',
  }));
  pools = await createDatabasePools(config.database);
  const withTenant = createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 });
  // The worker first: each pod asks the platform which bots to run.
  await processes.start(['worker/main.ts'], { env, readyText: 'worker started' });
  for (let index = 0; index < 2; index += 1) {
    const graph = await seedTenant(withTenant);
    // Awkward text (accents, emoji, quotes) and timestamps µs apart.
    await withTenant(graph.tenantId, (tx) => tx.query(sql.unsafe`
      INSERT INTO leads (tenant_id, bot_id, wa_id, name, score, company, created_at)
      SELECT ${graph.tenantId}, ${graph.botId}, '5521' || lpad(n::text, 9, '0'), 'João "Zé" O''Brien 🚀 #' || n, n % 97,
             'Empresa ' || repeat('á', n % 13), now() - n * interval '1 microsecond'
        FROM generate_series(1, ${LEADS_PER_TENANT}) AS n`));
    const dataDir = mkdtempSync(join(tmpdir(), 'backup-pod-'));
    const sessionsDir = await writeSessions(dataDir, graph.botId);
    await startBotPod(processes, graph.tenantId, { dataDir, env });
    tenants.push({ graph, sessionsDir });
  }
  client = await connectTemporalClient(config.temporal);
}, 120_000);

afterAll(async () => {
  await processes.stopAll();
  for (const database of createdDatabases) await dropDatabase(config.database.migrationUrl, database);
  for (const id of [BACKUP_SCHEDULE_ID, DRILL_SCHEDULE_ID]) await client?.schedule.getHandle(id).delete().catch(() => undefined);
  await client?.connection.close();
  await pools?.end();
  s3.destroy();
});

describe('backups', () => {
  let first: BackupResult;

  it('creates the Schedules at worker start: nightly backup and weekly drill, overlap SKIP, configured time zone', async () => {
    const nightly = await client.schedule.getHandle(BACKUP_SCHEDULE_ID).describe();
    expect(nightly.policies.overlap).toBe('SKIP');
    expect(nightly.spec.calendars?.[0]).toMatchObject({ hour: [{ start: 3, end: 3, step: 1 }], minute: [{ start: 0, end: 0, step: 1 }] });
    expect(nightly.spec.timezone).toBe('UTC');
    expect(nightly.action).toMatchObject({ workflowType: 'backupDatabase', taskQueue: TASK_QUEUE, args: [{ kind: 'nightly' }] });
    const drill = await client.schedule.getHandle(DRILL_SCHEDULE_ID).describe();
    expect(drill.spec.calendars?.[0]?.dayOfWeek).toEqual([{ start: 'SUNDAY', end: 'SUNDAY', step: 1 }]);
    expect(drill.action).toMatchObject({ workflowType: 'restoreDrill' });
  });

  it('backs up the database and both tenants\' sessions, manifest last, and restores into a fresh database equal table by table', async () => {
    const workflowId = `backup-manual/test-${randomBytes(4).toString('hex')}`;
    first = await backUp(workflowId);
    await saveHistories(base, client, workflowId, 'backup-database');
    expect(first.missingSessions).toEqual([]);
    expect(await catalogRow(pools.maintenance, first.backupId)).toMatchObject({ status: 'complete', manifest_key: first.manifestKey });
    const manifest = await readManifestOf(first.backupId);
    const leads = manifest.database.tables.find((table) => table.table === 'leads')!;
    expect(leads.rows).toBe(2 * (LEADS_PER_TENANT + 1));
    expect(manifest).toMatchObject({ keyId: keyring.activeKeyId, database: { compression: 'zstd' }, postgres: { schemaVersion: LATEST_MIGRATION } });
    expect(manifest.sessions.map((entry) => entry.tenantId).sort()).toEqual(tenants.map((tenant) => tenant.graph.tenantId).sort());
    expect((await objectBytes(manifest.database.object.key)).subarray(0, 8).toString()).toBe('BIENC001');

    const target = `restored_${randomBytes(4).toString('hex')}`;
    createdDatabases.push(target);
    await run('restoreBackup', [{ backupId: first.backupId, target: { database: target }, requestedBy: 'test' }], restoreWorkflowId(first.backupId));
    const restored = await fingerprintsOf(target);
    expect(restored).toEqual(manifest.database.tables);
    expect(restored.length).toBeGreaterThan(15);
    // Row-level security came back with the rows: the application role sees nothing without a tenant.
    const app = new pg.Client({ connectionString: withDatabaseName(config.database.appUrl, target) });
    await app.connect();
    expect((await app.query('SELECT count(*)::int AS n FROM leads')).rows[0].n).toBe(0);
    await app.end();
  });

  it('restores the session snapshots of two tenants onto empty volumes byte-identical', async () => {
    const manifest = await readManifestOf(first.backupId);
    for (const { graph, sessionsDir } of tenants) {
      const entry = manifest.sessions.find((session) => session.tenantId === graph.tenantId)!;
      if (!('object' in entry)) throw new Error(`sessions of ${graph.tenantId} missing: ${entry.missing}`);
      const target = join(mkdtempSync(join(tmpdir(), 'restored-volume-')), 'sessions');
      await restoreSessions({ sessionsDir: target, s3, bucket, objectKey: entry.object.key, keyring });
      expect(filesUnder(target)).toEqual(filesUnder(sessionsDir));
      expect(Object.keys(filesUnder(target)).length).toBeGreaterThanOrEqual(3);
    }
  });

  it('drills the newest backup: restored into a scratch database, compared, amcheck run, marked verified, RTO recorded, scratch dropped', async () => {
    const drillId = `restore-drill-manual/test-${randomBytes(4).toString('hex')}`;
    const drill = await run<{ backupId: string; restoreSeconds: number; indexesChecked: number; differences: unknown[] }>('restoreDrill', [], drillId);
    await saveHistories(base, client, drillId, 'restore-drill');
    expect(drill).toMatchObject({ backupId: first.backupId, differences: [] });
    expect(drill.indexesChecked).toBeGreaterThan(20);
    expect(drill.restoreSeconds).toBeGreaterThan(0);
    expect((await catalogRow(pools.maintenance, first.backupId)).verified_at).not.toBeNull();
    const recorded = await pools.maintenance.one(sql.type(z.object({ passed: z.boolean(), restore_seconds: z.string() }))`
      SELECT passed, restore_seconds::text FROM backup_drills WHERE backup_id = ${first.backupId}`);
    expect(recorded.passed).toBe(true);
    expect(Number(recorded.restore_seconds)).toBeCloseTo(drill.restoreSeconds, 2);
    expect((await databases()).filter((name) => name.startsWith('drill_'))).toEqual([]);
    const events = await pools.maintenance.anyFirst(sql.type(z.object({ kind: z.string() }))`SELECT kind FROM platform_events ORDER BY sequence`);
    expect(events).toEqual(expect.arrayContaining(['backup.completed', 'restore.completed', 'drill.passed']));
  });

  it('refuses a flipped byte, a truncation, a missing object or manifest, an edited manifest and a wrong key, touching no database', async () => {
    const damaged = await backUp();
    const manifest = await readManifestOf(damaged.backupId);
    const databaseKey = manifest.database.object.key;
    const sessionEntry = manifest.sessions[0]!;
    if (!('object' in sessionEntry)) throw new Error('sessions missing');
    const original = new Map<string, Buffer>();
    for (const key of [databaseKey, sessionEntry.object.key, manifestKey(damaged.backupId)]) original.set(key, await objectBytes(key));
    const flip = (bytes: Buffer, at: number) => { const copy = Buffer.from(bytes); copy[at]! ^= 0x01; return copy; };
    const manifestText = original.get(manifestKey(damaged.backupId))!.toString();

    const cases: { name: string; damage: () => Promise<unknown>; reason: RegExp }[] = [
      { name: 'flipped byte in the dump', damage: () => putObject(databaseKey, flip(original.get(databaseKey)!, 5000)), reason: /database\.dump\.zst\.enc refused: chunk 0 fails authentication/ },
      { name: 'flipped byte in a session snapshot', damage: () => putObject(sessionEntry.object.key, flip(original.get(sessionEntry.object.key)!, 40)), reason: /sessions\/.*refused: chunk 0 fails authentication/ },
      { name: 'truncated dump', damage: () => putObject(databaseKey, original.get(databaseKey)!.subarray(0, original.get(databaseKey)!.length - 100)), reason: /database\.dump\.zst\.enc refused: .*(fails authentication|truncated)/ },
      { name: 'missing dump', damage: () => s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: databaseKey })), reason: /database\.dump\.zst\.enc is missing from the bucket/ },
      { name: 'missing manifest', damage: () => s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: manifestKey(damaged.backupId) })), reason: /has no manifest: it is incomplete/ },
      { name: 'edited row count in the manifest', damage: () => putObject(manifestKey(damaged.backupId), manifestText.replace(/"rows": (\d+)/, (_match, rows: string) => `"rows": ${Number(rows) + 1}`)), reason: /manifest fails authentication/ },
    ];
    const before = await databases();
    for (const { name, damage, reason } of cases) {
      await damage();
      const target = `never_${randomBytes(4).toString('hex')}`;
      const failure = await failureOf(run('restoreBackup', [{ backupId: damaged.backupId, target: { database: target }, requestedBy: 'test' }]));
      expect({ name, failure }).toEqual({ name, failure: expect.stringMatching(reason) });
      expect(await databases()).toEqual(before);
      for (const [key, bytes] of original) await putObject(key, bytes);
    }
    // Wrong key: a keyring that has the key id but other key material.
    const otherKey = loadKeyring({ keys: `${keyring.activeKeyId}:${randomBytes(32).toString('base64')}`, keysFile: '/nonexistent', activeKeyId: null });
    await expect(verifyBackup({ s3, bucket, keyring: otherKey }, damaged.backupId)).rejects.toThrow(/manifest fails authentication/);
    const unknownKey = loadKeyring({ keys: `rotated-away:${randomBytes(32).toString('base64')}`, keysFile: '/nonexistent', activeKeyId: null });
    await expect(verifyBackup({ s3, bucket, keyring: unknownKey }, damaged.backupId)).rejects.toThrow(new RegExp(`names key ${keyring.activeKeyId}, which is not configured`));
    // Undamaged again, it restores.
    await expect(verifyBackup({ s3, bucket, keyring }, damaged.backupId)).resolves.toMatchObject({ backupId: damaged.backupId });
    // A restore never overwrites an existing database.
    const failure = await failureOf(run('restoreBackup', [{ backupId: damaged.backupId, target: { database: DATABASE }, requestedBy: 'test' }]));
    expect(failure).toMatch(new RegExp(`database ${DATABASE} exists: a restore goes only into a new database`));
    const events = await pools.maintenance.anyFirst(sql.type(z.object({ kind: z.string() }))`SELECT kind FROM platform_events WHERE kind = 'restore.failed'`);
    expect(events.length).toBe(cases.length + 1);
  });

  it('records a failed backup in the catalog and alerts through the audit log and the platform events', async () => {
    // A worker of its own, on its own queue, without any encryption key.
    const queue = `${TASK_QUEUE}-no-key`;
    await processes.start(['worker/main.ts'], {
      env: { ...env, TEMPORAL_TASK_QUEUE: queue, BACKUP_SCHEDULES_ENABLED: 'false', ENCRYPTION_KEYS: '', ENCRYPTION_KEYS_FILE: join(tmpdir(), 'no-such-key-file') },
      readyText: 'worker started',
    });
    const handle = await client.workflow.start('backupDatabase', { workflowId: `backup-no-key/${randomBytes(4).toString('hex')}`, taskQueue: queue, args: [{ kind: 'manual' }] });
    const failure = await failureOf(handle.result());
    expect(failure).toMatch(/^backup \S+ failed: no encryption key: set ENCRYPTION_KEYS or write /);
    const backupId = failure.split(' ')[1]!;
    expect(await catalogRow(pools.maintenance, backupId)).toMatchObject({ status: 'failed', manifest_key: null, failure: expect.stringMatching(/no encryption key/) });
    const event = await pools.maintenance.one(sql.type(z.object({ payload: z.record(z.string(), z.unknown()) }))`
      SELECT payload FROM platform_events WHERE kind = 'backup.failed' AND payload ->> 'backupId' = ${backupId}`);
    expect(event.payload).toMatchObject({ kind: 'manual', reason: expect.stringMatching(/no encryption key/) });
    const audit = await pools.maintenance.oneFirst(sql.type(z.object({ n: z.number() }))`
      SELECT count(*)::int AS n FROM audit_logs WHERE tenant_id IS NULL AND action = 'backup.failed' AND details ->> 'backupId' = ${backupId}`);
    expect(audit).toBe(1);
    await expect(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: manifestKey(backupId) }))).rejects.toThrow();
  });

  it('restores over the live database only after approval, after a safety backup, keeping the old one', async () => {
    const backup = await backUp();
    const marker = await pools.maintenance.oneFirst(sql.type(z.object({ n: z.number() }))`SELECT count(*)::int AS n FROM leads`);
    const handle = await client.workflow.start('restoreBackup', {
      workflowId: `${restoreWorkflowId(backup.backupId)}`, taskQueue: TASK_QUEUE,
      args: [{ backupId: backup.backupId, target: { live: true }, requestedBy: 'test' }],
    });
    let phase = '';
    for (const deadline = Date.now() + 60_000; phase !== 'awaiting-approval' && Date.now() < deadline; await sleep(200)) {
      phase = (await handle.query<{ phase: string }>(RESTORE_PHASE_QUERY)).phase;
    }
    expect(phase).toBe('awaiting-approval');
    // While the restore waits, retention keeps its backup whatever the policy.
    const strictest = planRetention(await readCatalog(pools.maintenance), { keepDays: 0, keepWeekly: 0, keepMonthly: 0 }, new Date());
    expect(strictest.keep.find((entry) => entry.id === backup.backupId)?.reasons).toEqual(['held-by-restore']);
    // Nothing happens without the approval: a change made now is still there.
    const withTenant = createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 });
    const tenantId = tenants[0]!.graph.tenantId;
    await withTenant(tenantId, (tx) => tx.query(sql.unsafe`DELETE FROM leads WHERE tenant_id = ${tenantId} AND wa_id LIKE '5521%'`));
    await sleep(1000);
    expect((await handle.query<{ phase: string }>(RESTORE_PHASE_QUERY)).phase).toBe('awaiting-approval');

    await handle.signal(APPROVE_RESTORE_SIGNAL, { approvedBy: 'operator@example.com' });
    const result = await handle.result() as { approvedBy: string; safetyBackupId: string; retiredDatabase: string };
    expect(result.approvedBy).toBe('operator@example.com');
    await saveHistories(base, client, handle.workflowId, 'restore-backup-live');
    // The pools reconnect to the restored database under the live name: the deleted leads are back.
    let leads = 0;
    for (const deadline = Date.now() + 30_000; leads !== marker && Date.now() < deadline; await sleep(250)) {
      leads = await pools.maintenance.oneFirst(sql.type(z.object({ n: z.number() }))`SELECT count(*)::int AS n FROM leads`).catch(() => -1);
    }
    expect(leads).toBe(marker);
    // The hold came along with the catalog and was released once the restore ended.
    expect((await readCatalog(pools.maintenance)).find((entry) => entry.id === backup.backupId)).toMatchObject({ heldUntil: null });
    // The catalog was carried over (the safety backup is in it) and the old database kept.
    expect(await catalogRow(pools.maintenance, result.safetyBackupId)).toMatchObject({ status: 'complete' });
    createdDatabases.push(result.retiredDatabase);
    expect(await databases()).toContain(result.retiredDatabase);
    const safety = await readManifestOf(result.safetyBackupId);
    expect(safety.database.tables.find((table) => table.table === 'leads')!.rows).toBe(marker - LEADS_PER_TENANT);
    // The swapped-in database is backed up and restored like any other (no restore tooling came along).
    const again = await backUp();
    const target = `restored_${randomBytes(4).toString('hex')}`;
    createdDatabases.push(target);
    await run('restoreBackup', [{ backupId: again.backupId, target: { database: target }, requestedBy: 'test' }]);
    expect(await fingerprintsOf(target)).toEqual((await readManifestOf(again.backupId)).database.tables);
  });

  it('keeps retrying while the S3 server is down mid-upload, and marks nothing complete before the manifest exists', async () => {
    // Enough data that the upload is still running when the server dies.
    const owner = await createPool(config.database.migrationUrl, { maximumPoolSize: 1 });
    await owner.query(sql.unsafe`CREATE TABLE bulk_payload (id int PRIMARY KEY, payload text NOT NULL)`);
    await owner.query(sql.unsafe`INSERT INTO bulk_payload SELECT n, encode(sha512(n::text::bytea), 'base64') || md5(random()::text) || md5(random()::text)
                                   FROM generate_series(1, 900000) AS n`);
    await owner.query(sql.unsafe`GRANT SELECT ON bulk_payload TO bi_maintenance`);
    const handle = await client.workflow.start('backupDatabase', { workflowId: `backup-s3-outage/${randomBytes(4).toString('hex')}`, taskQueue: TASK_QUEUE, args: [{ kind: 'manual' }] });
    let backupId: string | null = null;
    for (const deadline = Date.now() + 30_000; !backupId && Date.now() < deadline; await sleep(20)) {
      backupId = await pools.maintenance.maybeOneFirst(sql.type(z.object({ id: z.string() }))`SELECT id FROM backups WHERE workflow_id = ${handle.workflowId}`);
    }
    expect(backupId).not.toBeNull();
    for (let heartbeat = false, deadline = Date.now() + 30_000; !heartbeat && Date.now() < deadline; await sleep(20)) {
      heartbeat = ((await handle.describe()).raw.pendingActivities ?? []).some((activity) => activity.heartbeatDetails);
    }
    await sleep(300);
    await stopS3(base);
    try {
      let attempts = 0;
      for (const deadline = Date.now() + 60_000; attempts < 2 && Date.now() < deadline; await sleep(250)) {
        attempts = Math.max(0, ...((await handle.describe()).raw.pendingActivities ?? []).map((activity) => activity.attempt ?? 0));
      }
      expect(attempts).toBeGreaterThanOrEqual(2);
      expect(await catalogRow(pools.maintenance, backupId!)).toMatchObject({ status: 'running', manifest_key: null });
    } finally {
      await startS3(base);
    }
    const result = await handle.result() as BackupResult;
    expect(await catalogRow(pools.maintenance, result.backupId)).toMatchObject({ status: 'complete' });
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: manifestKey(result.backupId) }));
    const manifest = await verifyBackup({ s3, bucket, keyring }, result.backupId);
    expect(manifest.database.tables.find((table) => table.table === 'bulk_payload')!.rows).toBe(900_000);
    await owner.query(sql.unsafe`DROP TABLE bulk_payload`);
    await owner.end();
    // Its own waits add up to two minutes (the upload started, two attempts, the retry after), more on a loaded machine.
  }, 240_000);
});
