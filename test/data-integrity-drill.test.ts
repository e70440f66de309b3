// The weekly restore drill runs the integrity checks on the restored copy and records the result
// with the drill; a backup whose copy has critical findings fails its drill with a readable reason.
// A real worker process, a database of its own and a bucket of its own on the shared S3 server.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { createPool, sql } from 'slonik';
import { z } from 'zod';
import { loadConfig, type Config } from '../core/config.ts';
import { createDatabasePools, type DatabasePools } from '../core/db/pools.ts';
import { createWithTenant } from '../core/db/with-tenant.ts';
import { createObjectStoreClient } from '../core/object-store.ts';
import { connectTemporalClient } from '../core/temporal/client.ts';
import { dropDatabase } from '../activities/backups/restore-database.ts';
import { terminateRunningWorkflows } from '../stack/workflows.ts';
import { prepareBackupDatabase } from './support/backup-database.ts';
import { processGroup } from './support/processes.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

const base = loadConfig();
const DATABASE = 'botinteligente_drill_integrity_test';
const TASK_QUEUE = 'drill-integrity-test';
const bucket = `drill-integrity-${randomBytes(4).toString('hex')}`;
const s3 = createObjectStoreClient(base.s3);
const processes = processGroup();
let config: Config;
let pools: DatabasePools;
let client: Client;
let tenant: TenantGraph;

const run = <T>(workflowType: string, args: unknown[]) =>
  client.workflow.execute(workflowType, { workflowId: `${workflowType}/${randomBytes(6).toString('hex')}`, taskQueue: TASK_QUEUE, args }) as Promise<T>;
const backUpAndDrill = async () => {
  await run('backupDatabase', [{ kind: 'manual' }]);
  return run<Record<string, unknown>>('restoreDrill', []);
};
const lastDrill = () => pools.maintenance.one(sql.type(z.object({ passed: z.boolean(), details: z.record(z.string(), z.unknown()) }))`
  SELECT passed, details FROM backup_drills ORDER BY finished_at DESC LIMIT 1`);

type Statement = ReturnType<typeof sql.unsafe>;
const asOwner = async (statements: Statement[]) => {
  const owner = await createPool(config.database.migrationUrl, { maxPoolSize: 1 });
  try {
    await owner.transaction(async (tx) => {
      await tx.query(sql.unsafe`SELECT set_config('app.current_tenant', ${tenant.tenantId}, true)`);
      for (const statement of statements) await tx.query(statement);
    });
  } finally {
    await owner.end();
  }
};

beforeAll(async () => {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  let env: Record<string, string>;
  ({ env, config } = await prepareBackupDatabase(base, DATABASE, { TEMPORAL_TASK_QUEUE: TASK_QUEUE, S3_BUCKET: bucket }));
  pools = await createDatabasePools(config.database);
  tenant = await seedTenant(createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 }));
  await terminateRunningWorkflows(config.temporal, TASK_QUEUE, 'a new test process starts');
  await processes.start(['worker/main.ts'], { env, readyText: 'worker started' });
  client = await connectTemporalClient(config.temporal);
}, 120_000);
afterAll(async () => {
  await processes.stopAll();
  await client?.connection.close();
  await pools?.end();
  await dropDatabase(base.database.migrationUrl, DATABASE);
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  if (listed.Contents?.length) await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: listed.Contents.map(({ Key }) => ({ Key })) } }));
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
  s3.destroy();
});

describe('the restore drill runs the integrity checks on the restored copy', () => {
  it('records the findings by severity with a passed drill when the copy is clean', async () => {
    const drill = await backUpAndDrill();
    const integrity = { checks: expect.any(Number), findings: { critical: 0, warning: 0, info: 0 }, truncated: false, critical: [], failure: null };
    expect(drill).toMatchObject({ integrity });
    expect((drill.integrity as { checks: number }).checks).toBeGreaterThan(5);
    expect(await lastDrill()).toMatchObject({ passed: true, details: { integrity } });
  }, 180_000);

  it('fails the drill, with the critical findings as its reason, when the backed-up data is damaged', async () => {
    // A message whose lead is gone, loaded while its key was dropped (re-added NOT VALID): the dump
    // and the restore carry both defects over faithfully, and the table comparison sees no difference.
    await asOwner([
      sql.unsafe`ALTER TABLE lead_messages DROP CONSTRAINT lead_messages_lead_fk`,
      sql.unsafe`INSERT INTO lead_messages (tenant_id, bot_id, lead_id, direction, wa_message_id, body)
                 VALUES (${tenant.tenantId}, ${tenant.botId}, gen_random_uuid(), 'inbound', 'WAMID-DRILL-ORPHAN', 'hello?')`,
      sql.unsafe`ALTER TABLE lead_messages ADD CONSTRAINT lead_messages_lead_fk FOREIGN KEY (tenant_id, bot_id, lead_id)
                 REFERENCES leads (tenant_id, bot_id, id) ON DELETE CASCADE NOT VALID`,
    ]);
    try {
      const failure = await backUpAndDrill().then(() => null, (error: unknown) => error);
      expect(failure).toBeInstanceOf(WorkflowFailedError);
      const message = String((failure as WorkflowFailedError).cause?.message);
      expect(message).toMatch(/^restore drill of \S+ failed: the restored copy has 2 critical integrity finding\(s\): /);
      expect(message).toContain('foreign-keys-not-valid: ');
      expect(message).toContain('orphaned-rows: lead_messages row ');
      const drill = await lastDrill();
      expect(drill.passed).toBe(false);
      expect(drill.details).toMatchObject({
        differences: [], corruptIndexes: [],
        integrity: {
          findings: { critical: 2, warning: 0, info: 0 },
          critical: [
            { check: 'orphaned-rows', key: expect.stringMatching(/^lead_messages:/), summary: expect.any(String) },
            { check: 'foreign-keys-not-valid', key: 'lead_messages.lead_messages_lead_fk', summary: expect.any(String) },
          ],
        },
      });
    } finally {
      await asOwner([
        sql.unsafe`DELETE FROM lead_messages WHERE wa_message_id = 'WAMID-DRILL-ORPHAN'`,
        sql.unsafe`ALTER TABLE lead_messages VALIDATE CONSTRAINT lead_messages_lead_fk`,
      ]);
    }
  }, 180_000);
});
