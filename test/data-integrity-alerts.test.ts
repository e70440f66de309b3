// Alerts for new critical findings: a run raises `integrity.critical_finding` (audit + platform
// event) only for a critical defect the previous run of the same scope did not have.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'slonik';
import { z } from 'zod';
import { createDataIntegrityActivities } from '../activities/data-integrity/index.ts';
import { loadConfig } from '../core/config.ts';
import { createIntegrityDatabase, type IntegrityDatabase } from './support/integrity-database.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

const config = loadConfig();
let db: IntegrityDatabase;
let tenant: TenantGraph;
let activities: ReturnType<typeof createDataIntegrityActivities>;

beforeAll(async () => {
  db = await createIntegrityDatabase(config);
  tenant = await seedTenant(db.withTenant);
  activities = createDataIntegrityActivities({ maintenancePool: db.pools.maintenance });
});
afterAll(async () => {
  await db.drop();
});

const run = (scope = 'platform') => activities.integrityRunChecks({ scope, workflowId: `integrity/${scope}` });
type Statement = ReturnType<typeof sql.unsafe>;
const asOwner = (statement: Statement) => db.owner.query(statement);
/** As the owner acting as the tenant (RLS is forced on the owner too), in one transaction. */
const asTenantOwner = (statements: Statement[]) => db.runAsTenantOwner(tenant.tenantId, statements);
const events = () => db.pools.maintenance.any(sql.type(z.object({ payload: z.record(z.string(), z.unknown()) }))`
  SELECT payload FROM platform_events WHERE kind = 'integrity.critical_finding' ORDER BY sequence`);
const audits = () => db.pools.maintenance.oneFirst(sql.type(z.object({ count: z.number() }))`
  SELECT count(*)::int AS count FROM audit_logs WHERE action = 'integrity.critical_finding' AND tenant_id IS NULL`);

describe('integrity.critical_finding alerts', () => {
  it('alert a persisting critical finding once, and again when it comes back after a clean run', async () => {
    await run();
    expect(await events()).toEqual([]);

    await asOwner(sql.unsafe`ALTER TABLE leads DISABLE TRIGGER leads_audit`);
    try {
      const first = await run();
      await run();
      expect(await events()).toEqual([{ payload: expect.objectContaining({
        runId: first.runId, scope: 'platform', check: 'triggers-disabled', key: 'leads.leads_audit', affectedTenantId: null,
      }) }]);
      expect(await audits()).toBe(1);
    } finally {
      await asOwner(sql.unsafe`ALTER TABLE leads ENABLE TRIGGER leads_audit`);
    }

    await run();
    expect(await events()).toHaveLength(1);

    await asOwner(sql.unsafe`ALTER TABLE leads DISABLE TRIGGER leads_audit`);
    try {
      const again = await run();
      await run();
      const raised = await events();
      expect(raised).toHaveLength(2);
      expect(raised[1]?.payload).toMatchObject({ runId: again.runId, check: 'triggers-disabled', key: 'leads.leads_audit' });
      expect(await audits()).toBe(2);
    } finally {
      await asOwner(sql.unsafe`ALTER TABLE leads ENABLE TRIGGER leads_audit`);
    }
  });

  it('compare a tenant run with the previous run of that tenant, not with a platform run in between', async () => {
    const before = (await events()).length;
    const scope = `tenant-${tenant.tenantId}`;
    const otherPipeline = randomUUID();
    await asTenantOwner([sql.unsafe`ALTER TABLE leads DROP CONSTRAINT leads_stage_fk`,
      sql.unsafe`INSERT INTO pipelines (id, tenant_id, name) VALUES (${otherPipeline}, ${tenant.tenantId}, 'Other')`,
      sql.unsafe`INSERT INTO pipeline_stages (tenant_id, pipeline_id, name, position) VALUES (${tenant.tenantId}, ${otherPipeline}, 'Elsewhere', 0)`,
      sql.unsafe`UPDATE leads SET stage_id = (SELECT id FROM pipeline_stages WHERE pipeline_id = ${otherPipeline}) WHERE id = ${tenant.leadId}`]);
    try {
      await run(scope);
      await run();
      await run(scope);
      const raised = (await events()).slice(before).map((event) => event.payload);
      expect(raised).toEqual([
        expect.objectContaining({ scope, check: 'lead-stage-outside-pipeline', key: `lead:${tenant.leadId}`, affectedTenantId: tenant.tenantId }),
        expect.objectContaining({ scope: 'platform', check: 'lead-stage-outside-pipeline', key: `lead:${tenant.leadId}` }),
      ]);
    } finally {
      await asTenantOwner([sql.unsafe`UPDATE leads SET stage_id = ${tenant.stageIds[0]} WHERE id = ${tenant.leadId}`,
        sql.unsafe`DELETE FROM pipelines WHERE id = ${otherPipeline}`,
        sql.unsafe`ALTER TABLE leads ADD CONSTRAINT leads_stage_fk FOREIGN KEY (tenant_id, pipeline_id, stage_id)
                   REFERENCES pipeline_stages (tenant_id, pipeline_id, id) ON DELETE NO ACTION`]);
    }
  });
});
