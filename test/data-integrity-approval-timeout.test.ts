// The approval window at its configured length (INTEGRITY_APPROVAL_TIMEOUT_SECONDS, a day by
// default) on Temporal's time-skipping test server: an approval fix nobody approves expires after
// exactly that long, unapplied, and not a moment before.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { sql } from 'slonik';
import { z } from 'zod';
import { createDataIntegrityActivities } from '../activities/data-integrity/index.ts';
import { loadConfig } from '../core/config.ts';
import { integrityWorkflowId } from '../core/temporal/data-integrity.ts';
import type { awaitIntegrityApprovals, dataIntegrityRun } from '../workflows/data-integrity.ts';
import { createIntegrityDatabase, type IntegrityDatabase } from './support/integrity-database.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

const config = loadConfig();
const TASK_QUEUE = 'integrity-timeout-test';
let db: IntegrityDatabase;
let tenant: TenantGraph;
let testEnv: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  db = await createIntegrityDatabase(config);
  tenant = await seedTenant(db.withTenant);
  testEnv = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: join(config.stack.toolsDir, 'bin', 'temporal-test-server') } },
  });
  worker = await Worker.create({
    connection: testEnv.nativeConnection, taskQueue: TASK_QUEUE,
    workflowsPath: fileURLToPath(new URL('../workflows/index.ts', import.meta.url)),
    activities: createDataIntegrityActivities({ maintenancePool: db.pools.maintenance }),
  });
  running = worker.run();
}, 120_000);
afterAll(async () => {
  worker?.shutdown();
  await running;
  await testEnv?.teardown();
  await db.drop();
});

const productImage = () => db.pools.maintenance.oneFirst(sql.type(z.object({ imageId: z.uuid().nullable() }))`
  SELECT image_id AS "imageId" FROM products WHERE id = ${tenant.productId}`);

describe('approval timeout (time-skipping)', () => {
  it('expires an unapproved fix after the configured window, unapplied', async () => {
    const otherBot = randomUUID();
    const otherImage = randomUUID();
    await db.asTenantOwner(tenant.tenantId, async (tx) => {
      await tx.query(sql.unsafe`INSERT INTO bots (id, tenant_id, name, phone_e164) VALUES (${otherBot}, ${tenant.tenantId}, 'Other bot', '+5511999990001')`);
      await tx.query(sql.unsafe`INSERT INTO bot_images (id, tenant_id, bot_id, object_key, content_type, size_bytes)
        VALUES (${otherImage}, ${tenant.tenantId}, ${otherBot}, ${`tenants/${tenant.tenantId}/images/${otherImage}.png`}, 'image/png', 10)`);
      await tx.query(sql.unsafe`UPDATE products SET image_id = ${otherImage} WHERE id = ${tenant.productId}`);
    });
    expect(config.integrity.approvalTimeoutMs).toBe(86_400_000);
    const startedAt = await testEnv.currentTimeMs();
    const run = await testEnv.client.workflow.execute<typeof dataIntegrityRun>('dataIntegrityRun', {
      taskQueue: TASK_QUEUE, workflowId: integrityWorkflowId(`tenant-${tenant.tenantId}`),
      args: [{ scope: `tenant-${tenant.tenantId}`, approvalTimeoutMs: config.integrity.approvalTimeoutMs }],
    });
    const outcomes = await testEnv.client.workflow.getHandle<typeof awaitIntegrityApprovals>(run.approvalsWorkflowId!).result();
    expect(outcomes).toEqual([{ fixId: run.fixes[0]!.fixId, status: 'expired', failure: null }]);
    const waitedMs = (await testEnv.currentTimeMs()) - startedAt;
    expect(waitedMs).toBeGreaterThanOrEqual(config.integrity.approvalTimeoutMs);
    expect(waitedMs).toBeLessThan(config.integrity.approvalTimeoutMs + 60_000);
    expect(await productImage()).toBe(otherImage);
  }, 120_000);
});
