// The integrity/<scope> workflow on the real Temporal dev server, with a worker in this process and
// a database of its own corrupted on purpose: auto fixes are applied and verified, an approval fix
// waits for its signal (and expires without it), and two runs of one scope never overlap.
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { WorkflowIdConflictPolicy, type Client } from '@temporalio/client';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { sql } from 'slonik';
import { z } from 'zod';
import { createDataIntegrityActivities } from '../activities/data-integrity/index.ts';
import { loadConfig } from '../core/config.ts';
import { connectTemporalClient, connectTemporalWorker } from '../core/temporal/client.ts';
import { APPROVE_FIXES_SIGNAL, integrityWorkflowId, type IntegrityWorkflowInput } from '../core/temporal/data-integrity.ts';
import type { dataIntegrityRun, scheduledIntegrityRun } from '../workflows/data-integrity.ts';
import { createIntegrityDatabase, type IntegrityDatabase } from './support/integrity-database.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

const config = loadConfig();
const TASK_QUEUE = `integrity-test-${randomUUID().slice(0, 8)}`;
let db: IntegrityDatabase;
let tenant: TenantGraph;
let client: Client;
let worker: Worker;
let running: Promise<void>;
let closeWorkerConnection: () => Promise<void>;

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  db = await createIntegrityDatabase(config);
  tenant = await seedTenant(db.withTenant);
  client = await connectTemporalClient(config.temporal);
  const workerConnection = await connectTemporalWorker(config.temporal);
  closeWorkerConnection = () => workerConnection.connection.close();
  worker = await Worker.create({
    ...workerConnection, taskQueue: TASK_QUEUE,
    workflowsPath: fileURLToPath(new URL('../workflows/index.ts', import.meta.url)),
    activities: createDataIntegrityActivities({ maintenancePool: db.pools.maintenance }),
  });
  running = worker.run();
}, 120_000);
afterAll(async () => {
  worker?.shutdown();
  await running;
  await closeWorkerConnection();
  await client.connection.close();
  await db.drop();
});

type Statement = ReturnType<typeof sql.unsafe>;
const asOwner = (statements: Statement[]) => db.owner.transaction(async (tx) => {
  await tx.query(sql.unsafe`SELECT set_config('app.current_tenant', ${tenant.tenantId}, true)`);
  for (const statement of statements) await tx.query(statement);
});
const productImage = () => db.pools.maintenance.oneFirst(sql.type(z.object({ imageId: z.uuid().nullable() }))`
  SELECT image_id AS "imageId" FROM products WHERE id = ${tenant.productId}`);

/** A product of the tenant showing another bot's image: the defect whose fix needs approval. */
const plantForeignImage = async () => {
  const otherBot = randomUUID();
  const otherImage = randomUUID();
  await asOwner([
    sql.unsafe`INSERT INTO bots (id, tenant_id, name, phone_e164) VALUES (${otherBot}, ${tenant.tenantId}, 'Other bot', '+5511999990001')`,
    sql.unsafe`INSERT INTO bot_images (id, tenant_id, bot_id, object_key, content_type, size_bytes)
               VALUES (${otherImage}, ${tenant.tenantId}, ${otherBot}, ${`tenants/${tenant.tenantId}/images/b.png`}, 'image/png', 10)`,
    sql.unsafe`UPDATE products SET image_id = ${otherImage} WHERE id = ${tenant.productId}`,
  ]);
  return {
    otherImage,
    repair: () => asOwner([sql.unsafe`UPDATE products SET image_id = ${tenant.imageId} WHERE id = ${tenant.productId}`, sql.unsafe`DELETE FROM bots WHERE id = ${otherBot}`]),
  };
};

/** A run per test: a scope of its own, so the tests' workflow ids never meet. */
const start = (input: IntegrityWorkflowInput) => client.workflow.start<typeof dataIntegrityRun>('dataIntegrityRun', {
  taskQueue: TASK_QUEUE, workflowId: integrityWorkflowId(input.scope), args: [input],
  workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING, workflowExecutionTimeout: '2 minutes',
});

/** The fix the workflow planned, once its run is recorded. */
const plannedFix = async (workflowId: string) => {
  for (;;) {
    const fixId = await db.pools.maintenance.maybeOneFirst(sql.type(z.object({ id: z.uuid() }))`
      SELECT x.id FROM integrity_fixes x JOIN integrity_findings f ON f.id = x.finding_id JOIN integrity_runs r ON r.id = f.run_id
       WHERE r.workflow_id = ${workflowId}`);
    if (fixId !== null) return fixId;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

describe('integrity workflow', () => {
  it('applies an auto fix at once, verifies it, and finishes', async () => {
    const orphanLead = randomUUID();
    await asOwner([
      sql.unsafe`ALTER TABLE lead_messages DROP CONSTRAINT lead_messages_lead_fk`,
      sql.unsafe`INSERT INTO lead_messages (tenant_id, bot_id, lead_id, direction, wa_message_id, body)
                 VALUES (${tenant.tenantId}, ${tenant.botId}, ${orphanLead}, 'inbound', 'WAMID-ORPHAN', 'hello?')`,
      sql.unsafe`ALTER TABLE lead_messages ADD CONSTRAINT lead_messages_lead_fk FOREIGN KEY (tenant_id, bot_id, lead_id)
                 REFERENCES leads (tenant_id, bot_id, id) ON DELETE CASCADE NOT VALID`,
    ]);
    try {
      const result = await (await start({ scope: `tenant-${tenant.tenantId}`, approvalTimeoutMs: 60_000 })).result();
      expect(result).toEqual({ runId: expect.any(String), findings: 1, fixes: [{ fixId: expect.any(String), status: 'verified', failure: null }] });
      expect(await db.pools.maintenance.oneFirst(sql.type(z.object({ count: z.number() }))`
        SELECT count(*)::int AS count FROM lead_messages WHERE lead_id = ${orphanLead}`)).toBe(0);
    } finally {
      await asOwner([sql.unsafe`ALTER TABLE lead_messages VALIDATE CONSTRAINT lead_messages_lead_fk`]);
    }
  }, 60_000);

  it('applies an approval fix only after its signal, while a second start of the scope joins the running run', async () => {
    const defect = await plantForeignImage();
    try {
      const handle = await start({ scope: 'platform', approvalTimeoutMs: 60_000 });
      const fixId = await plannedFix(handle.workflowId);
      const again = await start({ scope: 'platform', approvalTimeoutMs: 60_000 });
      expect(again.firstExecutionRunId).toBe(handle.firstExecutionRunId);
      const scheduled = await client.workflow.execute<typeof scheduledIntegrityRun>('scheduledIntegrityRun', {
        taskQueue: TASK_QUEUE, workflowId: `integrity-hourly-test-${randomUUID()}`, args: [{ scope: 'platform', approvalTimeoutMs: 60_000 }],
      });
      expect(scheduled).toEqual({ skipped: 'integrity/platform is already running' });

      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(await productImage()).toBe(defect.otherImage);
      await handle.signal(APPROVE_FIXES_SIGNAL, { fixIds: [fixId], approvedBy: 'admin@test' });
      expect(await handle.result()).toEqual({ runId: expect.any(String), findings: 1, fixes: [{ fixId, status: 'verified', failure: null }] });
      expect(await productImage()).toBeNull();
    } finally {
      await defect.repair();
    }
  }, 60_000);

  it('expires an approval fix that gets no signal in time, unapplied', async () => {
    const defect = await plantForeignImage();
    try {
      const handle = await start({ scope: `tenant-${tenant.tenantId}`, approvalTimeoutMs: 1_500 });
      const result = await handle.result();
      expect(result.fixes).toEqual([{ fixId: expect.any(String), status: 'expired', failure: null }]);
      expect(await productImage()).toBe(defect.otherImage);
      // A late approval finds the fix expired: still never applied.
      expect(await createDataIntegrityActivities({ maintenancePool: db.pools.maintenance })
        .integrityApplyFix({ fixId: result.fixes[0]!.fixId, approvedBy: 'late' })).toMatchObject({ status: 'expired' });
      expect(await productImage()).toBe(defect.otherImage);
    } finally {
      await defect.repair();
    }
  }, 60_000);
});
