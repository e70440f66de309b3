// The platform worker, a real process, SIGKILLed while a run applies its fixes. Every fix is its own
// transaction (before-image, change, status), so at the kill each fix is either wholly applied or
// not at all; a new worker picks the run up (the activities heartbeat, so the dead worker's fix is
// retried within the heartbeat timeout), and in the end every fix is applied exactly once and verified.
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Client } from '@temporalio/client';
import type { ChildProcess } from 'node:child_process';
import { sql } from 'slonik';
import { z } from 'zod';
import { loadConfig } from '../core/config.ts';
import { connectTemporalClient } from '../core/temporal/client.ts';
import { integrityWorkflowId } from '../core/temporal/data-integrity.ts';
import type { dataIntegrityRun } from '../workflows/data-integrity.ts';
import { terminateRunningWorkflows } from '../stack/workflows.ts';
import { createIntegrityDatabase, type IntegrityDatabase } from './support/integrity-database.ts';
import { processGroup } from './support/processes.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

const config = loadConfig();
const TASK_QUEUE = 'integrity-kill-test';
/** Orphans planted: one auto fix each, applied one after another by the run. */
const ORPHANS = 40;
const processes = processGroup();
let db: IntegrityDatabase;
let tenant: TenantGraph;
let client: Client;

const startWorker = () => processes.start(['worker/main.ts'], {
  readyText: 'worker started',
  env: {
    DATABASE_URL: db.database.appUrl,
    DATABASE_MAINTENANCE_URL: db.database.maintenanceUrl,
    DATABASE_MIGRATION_URL: db.database.migrationUrl,
    DATABASE_TOKEN_ADMIN_URL: db.database.tokenAdminUrl,
    TEMPORAL_TASK_QUEUE: TASK_QUEUE,
  },
});

beforeAll(async () => {
  db = await createIntegrityDatabase(config);
  tenant = await seedTenant(db.withTenant);
  client = await connectTemporalClient(config.temporal);
  await terminateRunningWorkflows(config.temporal, TASK_QUEUE, 'a new test process starts');
  // Orphaned messages, loaded while their key was dropped; and a slow delete (a real trigger in this
  // database, not a mock) so a fix's transaction is open most of the time and the kill lands in one.
  await db.owner.transaction(async (tx) => {
    await tx.query(sql.unsafe`SELECT set_config('app.current_tenant', ${tenant.tenantId}, true)`);
    await tx.query(sql.unsafe`ALTER TABLE lead_messages DROP CONSTRAINT lead_messages_lead_fk`);
    await tx.query(sql.unsafe`
      INSERT INTO lead_messages (tenant_id, bot_id, lead_id, direction, wa_message_id, body)
      SELECT ${tenant.tenantId}, ${tenant.botId}, gen_random_uuid(), 'inbound', 'WAMID-ORPHAN-' || n, 'hello?' FROM generate_series(1, ${ORPHANS}) n`);
    await tx.query(sql.unsafe`ALTER TABLE lead_messages ADD CONSTRAINT lead_messages_lead_fk FOREIGN KEY (tenant_id, bot_id, lead_id)
      REFERENCES leads (tenant_id, bot_id, id) ON DELETE CASCADE NOT VALID`);
    await tx.query(sql.unsafe`CREATE FUNCTION test_slow_delete() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_sleep(0.25); RETURN OLD; END $$`);
    await tx.query(sql.unsafe`CREATE TRIGGER test_slow_delete BEFORE DELETE ON lead_messages FOR EACH ROW EXECUTE FUNCTION test_slow_delete()`);
  });
}, 60_000);
afterAll(async () => {
  await processes.stopAll();
  await client?.connection.close();
  await db?.drop();
});

const fixState = z.object({ fixId: z.uuid(), status: z.string(), logRows: z.number(), rowPresent: z.boolean() });
/** Each fix of the run: its status, its before-image rows, and whether the orphan it deletes is still there. */
const fixStates = () => db.pools.maintenance.any(sql.type(fixState)`
  SELECT x.id AS "fixId", x.status,
         (SELECT count(*)::int FROM integrity_fix_log l WHERE l.fix_id = x.id) AS "logRows",
         EXISTS (SELECT 1 FROM lead_messages m WHERE m.id::text = f.details ->> 'row') AS "rowPresent"
    FROM integrity_fixes x JOIN integrity_findings f ON f.id = x.finding_id
   WHERE f.check_name = 'orphaned-rows'`);

/** Sessions of this database other than the test's own idle ones: the dead worker's, until they end. */
const busySessions = () => db.pools.maintenance.oneFirst(sql.type(z.object({ count: z.number() }))`
  SELECT count(*)::int AS count FROM pg_stat_activity
   WHERE datname = current_database() AND pid <> pg_backend_pid() AND state IS DISTINCT FROM 'idle'`);

const fixInFlight = () => db.pools.maintenance.exists(sql.unsafe`
  SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND query LIKE 'DELETE FROM "public"."lead_messages"%'`);

const waitUntil = async (probe: () => Promise<boolean>, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs;
  while (!await probe()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describe('a worker SIGKILLed in the middle of a fix run', () => {
  it('leaves no fix half applied, applies none twice, and a new worker finishes every fix verified', async () => {
    const worker: ChildProcess = await startWorker();
    const scope = `tenant-${tenant.tenantId}`;
    const run = await client.workflow.start<typeof dataIntegrityRun>('dataIntegrityRun', {
      taskQueue: TASK_QUEUE, workflowId: integrityWorkflowId(scope), args: [{ scope, approvalTimeoutMs: 60_000 }],
    });
    // A third of the fixes applied, the next one's delete running: kill.
    await waitUntil(async () => (await fixStates()).filter((fix) => fix.status === 'applied').length >= ORPHANS / 3 && await fixInFlight(), 60_000);
    worker.kill('SIGKILL');
    await once(worker, 'exit');
    await waitUntil(async () => (await busySessions()) === 0, 30_000);

    const atKill = await fixStates();
    expect(atKill).toHaveLength(ORPHANS);
    const applied = atKill.filter((fix) => fix.status === 'applied');
    const planned = atKill.filter((fix) => fix.status === 'planned');
    expect(applied.length).toBeGreaterThanOrEqual(ORPHANS / 3);
    expect(planned.length).toBeGreaterThan(0);
    expect(applied.length + planned.length).toBe(ORPHANS);
    // All or nothing: an applied fix logged its before-image and removed its row; a planned one (the
    // one killed mid-transaction included) logged nothing and left its row.
    for (const fix of applied) expect(fix).toMatchObject({ logRows: 1, rowPresent: false });
    for (const fix of planned) expect(fix).toMatchObject({ logRows: 0, rowPresent: true });

    await startWorker();
    const result = await run.result();
    // The run's other findings (the fixture's image row has no object in the bucket) plan their own
    // approval fixes: only the orphans' fixes are this test's.
    const orphanFixIds = new Set(atKill.map((fix) => fix.fixId));
    const orphanFixes = result.fixes.filter((fix) => orphanFixIds.has(fix.fixId));
    expect(orphanFixes).toHaveLength(ORPHANS);
    expect(orphanFixes.every((fix) => fix.status === 'verified')).toBe(true);
    const atEnd = await fixStates();
    // Exactly once: one before-image per fix, whether it was applied before the kill or after.
    expect(atEnd.map((fix) => ({ status: fix.status, logRows: fix.logRows, rowPresent: fix.rowPresent })))
      .toEqual(Array.from({ length: ORPHANS }, () => ({ status: 'verified', logRows: 1, rowPresent: false })));
  }, 300_000);
});
