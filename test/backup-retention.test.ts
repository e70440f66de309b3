// Retention as an action, on a synthetic catalog of 400 days (one backup a day, some failed, some
// never finished, two verified) with real objects in the S3 server, run by the real workflow on
// Temporal's time-skipping test server: each run deletes exactly the planned set (catalog and
// objects), the newest verified backup survives every run, a backup a restore holds survives until
// the hold expires, objects no entry claims stay.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { sql } from 'slonik';
import { z } from 'zod';
import { createBackupActivities } from '../activities/backups/index.ts';
import { newBackupId } from '../core/backups/backup-id.ts';
import { databaseObjectKey, manifestKey } from '../core/object-keys.ts';
import { planRetention, type CatalogEntry } from '../core/backups/retention-plan.ts';
import { loadConfig } from '../core/config.ts';
import { loadKeyring } from '../core/crypto/keyring.ts';
import { createDatabasePools, type DatabasePools } from '../core/db/pools.ts';
import { createObjectStoreClient } from '../core/object-store.ts';
import { prepareBackupDatabase } from './support/backup-database.ts';

const base = loadConfig();
const TASK_QUEUE = 'retention-test';
const DAY_MS = 86_400_000;
const s3 = createObjectStoreClient(base.s3);
const bucket = base.s3.bucket;
let pools: DatabasePools;
let testEnv: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
let entries: (CatalogEntry & { day: number })[] = [];
const unclaimed = [`backups/19990101T000000Z-${randomBytes(4).toString('hex')}/database.dump.zst.enc`, `backups/stray-${randomBytes(4).toString('hex')}.txt`];

const exists = (key: string) => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(() => true, () => false);
const objectsOf = (id: string) => [databaseObjectKey(id, 'zstd'), manifestKey(id)];

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const { config } = await prepareBackupDatabase(base, 'botinteligente_retention_test');
  pools = await createDatabasePools(config.database);
  testEnv = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: join(base.stack.toolsDir, 'bin', 'temporal-test-server') } },
  });
  worker = await Worker.create({
    connection: testEnv.nativeConnection, taskQueue: TASK_QUEUE,
    workflowsPath: fileURLToPath(new URL('../workflows/index.ts', import.meta.url)),
    activities: createBackupActivities({ config, pools, s3, keyring: () => loadKeyring(config.encryption), logger: { info: () => undefined } }),
  });
  running = worker.run();

  // One backup a day for 400 days, an hour before each day boundary of the server's clock.
  const now = await testEnv.currentTimeMs();
  entries = Array.from({ length: 400 }, (_, day) => {
    const createdAt = new Date(now - day * DAY_MS - 3_600_000);
    const complete = day % 17 !== 5 && day % 23 !== 7;
    return { day, id: newBackupId(createdAt, randomBytes(4).toString('hex')), createdAt, complete, verified: complete && (day === 200 || day === 250), heldUntil: null };
  });
  for (const entry of entries) {
    const failed = entry.day % 17 === 5;
    await pools.maintenance.query(sql.unsafe`
      INSERT INTO backups (id, kind, status, workflow_id, started_at, completed_at, manifest_key, failure, verified_at)
      VALUES (${entry.id}, 'nightly', ${entry.complete ? 'complete' : failed ? 'failed' : 'running'}, 'synthetic', ${entry.createdAt.toISOString()},
              ${entry.complete ? entry.createdAt.toISOString() : null}, ${entry.complete ? manifestKey(entry.id) : null},
              ${failed ? 'synthetic failure' : null}, ${entry.verified ? entry.createdAt.toISOString() : null})`);
    for (const key of objectsOf(entry.id)) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: entry.id }));
  }
  for (const key of unclaimed) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'not ours' }));
}, 180_000);

afterAll(async () => {
  worker?.shutdown();
  await running;
  await testEnv?.teardown();
  await pools?.end();
  s3.destroy();
});

type RetentionRun = { deleted: string[]; kept: { id: string; reasons: string[] }[]; unclaimedObjects: string[] };

const statuses = async () => new Map((await pools.maintenance.any(sql.type(z.object({ id: z.string(), status: z.string() }))`SELECT id, status FROM backups`))
  .map((row) => [row.id, row.status]));

describe('backup retention on a 400-day catalog', () => {
  it('deletes exactly the planned set at every point in time, keeps the newest verified backup and every unclaimed object', async () => {
    const newestVerified = entries.find((entry) => entry.day === 200)!;
    // A restore holds a backup the policy would delete today, for 200 days (a hold it never released).
    const start = new Date(await testEnv.currentTimeMs());
    const unheldPlan = planRetention(entries, { keepDays: 30, keepWeekly: 8, keepMonthly: 12 }, start);
    const held = entries.find((entry) => entry.complete && entry.day > 100 && unheldPlan.delete.some(({ id }) => id === entry.id))!;
    const heldUntil = new Date(start.getTime() + 200 * DAY_MS);
    await pools.maintenance.query(sql.unsafe`UPDATE backups SET held_by = 'restore/test', held_until = ${heldUntil.toISOString()} WHERE id = ${held.id}`);
    let alive = entries.map((entry) => (entry.id === held.id ? { ...entry, heldUntil } : entry));
    for (const skip of [0, 45, 120, 400]) {
      if (skip > 0) await testEnv.sleep(`${skip} days`);
      const now = new Date(await testEnv.currentTimeMs());
      const plan = planRetention(alive, { keepDays: 30, keepWeekly: 8, keepMonthly: 12 }, now);
      const result = await testEnv.client.workflow.execute('backupRetention', {
        workflowId: `retention-test/${skip}/${randomBytes(4).toString('hex')}`, taskQueue: TASK_QUEUE, args: [],
      }) as RetentionRun;

      expect(new Set(result.deleted)).toEqual(new Set(plan.delete.map((entry) => entry.id)));
      const after = await statuses();
      for (const entry of alive) {
        const deleted = result.deleted.includes(entry.id);
        expect({ id: entry.id, status: after.get(entry.id) === 'deleted' }).toEqual({ id: entry.id, status: deleted });
        for (const key of objectsOf(entry.id)) expect({ key, exists: await exists(key) }).toEqual({ key, exists: !deleted });
      }
      expect(result.kept.find((entry) => entry.id === newestVerified.id)?.reasons).toContain('newest-verified');
      // Kept for the hold alone while it lasts (0, 45 and 165 days in); once it has expired (565
      // days in) the policy alone decides, as the plan above modelled.
      const heldReasons = result.kept.find((entry) => entry.id === held.id)?.reasons ?? [];
      if (now < heldUntil) expect(heldReasons).toEqual(['held-by-restore']);
      else expect(heldReasons).not.toContain('held-by-restore');
      expect(result.unclaimedObjects).toEqual(expect.arrayContaining(unclaimed));
      for (const key of unclaimed) expect(await exists(key)).toBe(true);
      alive = alive.filter((entry) => !result.deleted.includes(entry.id));
    }
    // At the end only the policy's periods and the newest verified backup are left.
    expect(alive.length).toBeLessThanOrEqual(8 + 12 + 1);
    expect(alive.map((entry) => entry.id)).toContain(newestVerified.id);
    expect(entries.length - alive.length).toBeGreaterThan(370);
  });
});
