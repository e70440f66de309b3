// The foreign-keys-not-valid fix: a NOT VALID key is validated through the owner's narrow function,
// after the same run has deleted the orphans it would trip on; with an orphan left it fails with the
// reason, and no undo is offered (a validated key cannot be made NOT VALID again).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'slonik';
import { z } from 'zod';
import { loadConfig } from '../core/config.ts';
import { createDataIntegrityActivities, type DataIntegrityActivities } from '../activities/data-integrity/index.ts';
import { createIntegrityDatabase, type IntegrityDatabase } from './support/integrity-database.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

const config = loadConfig();
let db: IntegrityDatabase;
let tenant: TenantGraph;
let activities: DataIntegrityActivities;

beforeAll(async () => {
  db = await createIntegrityDatabase(config);
  tenant = await seedTenant(db.withTenant);
  activities = createDataIntegrityActivities({ maintenancePool: db.pools.maintenance });
});
afterAll(async () => {
  await db.drop();
});

type Statement = ReturnType<typeof sql.unsafe>;
const asOwner = (statements: Statement[]) => db.runAsTenantOwner(tenant.tenantId, statements);
const isValid = (constraint: string) => db.owner.oneFirst(sql.type(z.object({ valid: z.boolean() }))`
  SELECT convalidated AS valid FROM pg_constraint WHERE conname = ${constraint}`);
const runPlatform = () => activities.integrityRunChecks({ scope: 'platform', workflowId: 'test' });
/** Applies the run's auto fixes one by one in the run's order, as the workflow does, then verifies them. */
const applyInOrder = async (fixIds: readonly string[]) => {
  const applied = [];
  for (const fixId of fixIds) applied.push(await activities.integrityApplyFix({ fixId, approvedBy: null }));
  return { applied, verified: await activities.integrityVerifyFixes({ scope: 'platform', fixIds }) };
};

describe('data-integrity: validating NOT VALID foreign keys', () => {
  it('auto: a key re-added NOT VALID is validated, verified, and its undo is refused with the reason', async () => {
    await asOwner([
      sql.unsafe`ALTER TABLE products DROP CONSTRAINT products_bot_fk`,
      sql.unsafe`ALTER TABLE products ADD CONSTRAINT products_bot_fk FOREIGN KEY (tenant_id, bot_id) REFERENCES bots (tenant_id, id) ON DELETE CASCADE NOT VALID`,
    ]);
    const run = await runPlatform();
    expect(run.fixes).toEqual([{ fixId: expect.any(String), check: 'foreign-keys-not-valid', class: 'auto', findingKey: 'products.products_bot_fk' }]);
    const { fixId } = run.fixes[0]!;
    expect(await applyInOrder([fixId])).toEqual({
      applied: [{ fixId, status: 'applied', failure: null }], verified: [{ fixId, status: 'verified', failure: null }],
    });
    expect(await isValid('products_bot_fk')).toBe(true);
    expect((await runPlatform()).findings).toBe(0);

    await expect(activities.integrityUndoFix({ fixId, actor: 'test' })).rejects.toThrow(
      /cannot be undone: validating a foreign key changes no row, and Postgres cannot mark a validated key NOT VALID again/);
    expect(await isValid('products_bot_fk')).toBe(true);
  });

  it('the orphan fix runs before the validation in the same run, so both succeed', async () => {
    const goneLead = randomUUID();
    await asOwner([
      sql.unsafe`ALTER TABLE lead_messages DROP CONSTRAINT lead_messages_lead_fk`,
      sql.unsafe`INSERT INTO lead_messages (tenant_id, bot_id, lead_id, direction, wa_message_id, body)
                 VALUES (${tenant.tenantId}, ${tenant.botId}, ${goneLead}, 'inbound', 'WAMID-ORPHAN', 'hello?')`,
      sql.unsafe`ALTER TABLE lead_messages ADD CONSTRAINT lead_messages_lead_fk FOREIGN KEY (tenant_id, bot_id, lead_id)
                 REFERENCES leads (tenant_id, bot_id, id) ON DELETE CASCADE NOT VALID`,
    ]);
    const run = await runPlatform();
    expect(run.fixes.map((fix) => fix.check)).toEqual(['orphaned-rows', 'foreign-keys-not-valid']);
    const { applied, verified } = await applyInOrder(run.fixes.map((fix) => fix.fixId));
    expect(applied.map((outcome) => outcome.status)).toEqual(['applied', 'applied']);
    expect(verified.map((outcome) => outcome.status)).toEqual(['verified', 'verified']);
    expect(await isValid('lead_messages_lead_fk')).toBe(true);
  });

  it('an orphan without a safe fix makes the validation fail with that reason, and nothing changes', async () => {
    const goneBot = randomUUID();
    const orphanLead = randomUUID();
    await asOwner([
      sql.unsafe`ALTER TABLE leads DROP CONSTRAINT leads_bot_fk`,
      sql.unsafe`INSERT INTO leads (id, tenant_id, bot_id, wa_id) VALUES (${orphanLead}, ${tenant.tenantId}, ${goneBot}, '5511000000009')`,
      sql.unsafe`ALTER TABLE leads ADD CONSTRAINT leads_bot_fk FOREIGN KEY (tenant_id, bot_id) REFERENCES bots (tenant_id, id) ON DELETE NO ACTION NOT VALID`,
    ]);
    try {
      const run = await runPlatform();
      // leads_bot_fk does not cascade: the orphaned lead is reported, with no fix.
      expect(run.fixes.map((fix) => `${fix.check} ${fix.findingKey}`)).toEqual(['foreign-keys-not-valid leads.leads_bot_fk']);
      const [outcome] = (await applyInOrder(run.fixes.map((fix) => fix.fixId))).applied;
      expect(outcome).toEqual({
        fixId: run.fixes[0]!.fixId, status: 'failed',
        failure: expect.stringMatching(/^ForeignKeyNotValidatedError: leads\.leads_bot_fk cannot be validated: 1 row\(s\) still point at no parent row, with no safe fix \(see orphaned-rows\), such as leads row .* points at no bots row \(leads_bot_fk\)$/),
      });
      expect(await isValid('leads_bot_fk')).toBe(false);
    } finally {
      await asOwner([sql.unsafe`DELETE FROM leads WHERE id = ${orphanLead}`, sql.unsafe`ALTER TABLE leads VALIDATE CONSTRAINT leads_bot_fk`]);
    }
  });

  it('the owner function validates only a foreign key of a platform table, and only for bi_maintenance', async () => {
    const validate = (pool: IntegrityDatabase['owner'], table: string, constraint: string) =>
      pool.query(sql.unsafe`SELECT integrity_validate_foreign_key(${table}, ${constraint})`);
    await expect(validate(db.pools.maintenance, 'leads', 'leads_email_format')).rejects.toThrow(/no foreign key leads_email_format on a platform table leads/);
    await expect(validate(db.pools.maintenance, 'pg_class', 'leads_bot_fk')).rejects.toThrow(/no foreign key/);
    await expect(validate(db.pools.maintenance, 'leads; DROP TABLE leads', 'leads_bot_fk')).rejects.toThrow(/no foreign key/);
    await expect(validate(db.pools.app, 'leads', 'leads_bot_fk')).rejects.toThrow(/permission denied/);
    await validate(db.pools.maintenance, 'leads', 'leads_bot_fk');
  });
});
