// Every integrity check against a database corrupted on purpose (as the owner, around the guards):
// it finds exactly the planted defect, and a clean database yields no finding at all.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'slonik';
import { z } from 'zod';
import { loadConfig } from '../core/config.ts';
import type { IntegrityScope } from '../core/data-integrity/check.ts';
import { INTEGRITY_CHECKS } from '../activities/data-integrity/checks/index.ts';
import { runChecks } from '../activities/data-integrity/run-checks.ts';
import { superuserClient } from '../stack/postgres.ts';
import { createIntegrityDatabase, FRESH_BACKUP_ID, type IntegrityDatabase } from './support/integrity-database.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

const config = loadConfig();
const PLATFORM: IntegrityScope = { tenantId: null };
let db: IntegrityDatabase;
let first: TenantGraph;
let second: TenantGraph;

beforeAll(async () => {
  db = await createIntegrityDatabase(config);
  first = await seedTenant(db.withTenant);
  second = await seedTenant(db.withTenant);
});
afterAll(async () => {
  await db.drop();
});

/** Every finding of the run, as `check key` lines with the tenant, so a test can compare the whole set. */
const findings = async (scope: IntegrityScope = PLATFORM) =>
  (await runChecks(db.pools.maintenance, INTEGRITY_CHECKS, scope))
    .flatMap((result) => result.findings.map((finding) => ({ check: result.check, key: finding.key, tenantId: finding.tenantId })));

type Statement = ReturnType<typeof sql.unsafe>;
/** As the owner, in one transaction; RLS is forced on the owner too, so it acts as `tenantId`. */
const asOwner = (tenantId: string, statements: Statement[]) => db.runAsTenantOwner(tenantId, statements);

/** Plants a defect as the owner, runs the checks, and removes the defect again whatever happens. */
const withDefect = async <T>(plant: Statement[], repair: Statement[], work: () => Promise<T>, tenantId = first.tenantId): Promise<T> => {
  await asOwner(tenantId, plant);
  try {
    return await work();
  } finally {
    await asOwner(tenantId, repair);
  }
};

describe('data-integrity checks', () => {
  it('find nothing on a clean database, for the platform and for one tenant', async () => {
    expect(await findings()).toEqual([]);
    expect(await findings({ tenantId: first.tenantId })).toEqual([]);
  });

  it('run on one REPEATABLE READ, READ ONLY snapshot as bi_maintenance', async () => {
    const probe = {
      name: 'probe', severity: 'info' as const, description: 'reads the transaction settings', platformOnly: false,
      find: async (tx: Parameters<typeof INTEGRITY_CHECKS[number]['find']>[0]) => {
        const settings = await tx.one(sql.unsafe`
          SELECT current_setting('transaction_isolation') AS isolation, current_setting('transaction_read_only') AS "readOnly", current_user AS role`);
        return [{ key: 'settings', tenantId: null, summary: 'settings', details: settings as Record<string, unknown> }];
      },
    };
    const [result] = await runChecks(db.pools.maintenance, [probe], PLATFORM);
    expect(result!.findings[0]!.details).toEqual({ isolation: 'repeatable read', readOnly: 'on', role: 'bi_maintenance' });
  });

  it('foreign-keys-not-valid: a key re-added NOT VALID', async () => {
    const found = await withDefect(
      [sql.unsafe`ALTER TABLE products DROP CONSTRAINT products_bot_fk`,
        sql.unsafe`ALTER TABLE products ADD CONSTRAINT products_bot_fk FOREIGN KEY (tenant_id, bot_id) REFERENCES bots (tenant_id, id) ON DELETE CASCADE NOT VALID`],
      [sql.unsafe`ALTER TABLE products VALIDATE CONSTRAINT products_bot_fk`],
      () => findings());
    expect(found).toEqual([{ check: 'foreign-keys-not-valid', key: 'products.products_bot_fk', tenantId: null }]);
  });

  it('triggers-disabled: an audit trigger switched off', async () => {
    const found = await withDefect([sql.unsafe`ALTER TABLE leads DISABLE TRIGGER leads_audit`], [sql.unsafe`ALTER TABLE leads ENABLE TRIGGER leads_audit`], () => findings());
    expect(found).toEqual([{ check: 'triggers-disabled', key: 'leads.leads_audit', tenantId: null }]);
  });

  it('row-level-security: not forced on one table, and no policy on another', async () => {
    const found = await withDefect(
      [sql.unsafe`ALTER TABLE bots NO FORCE ROW LEVEL SECURITY`, sql.unsafe`DROP POLICY tenant_isolation ON schedules`],
      [sql.unsafe`ALTER TABLE bots FORCE ROW LEVEL SECURITY`,
        sql.unsafe`CREATE POLICY tenant_isolation ON schedules USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant())`],
      () => findings());
    expect(found).toEqual([
      { check: 'row-level-security', key: 'bots', tenantId: null },
      { check: 'row-level-security', key: 'schedules', tenantId: null },
    ]);
  });

  it('application-roles-bypass-rls: bi_app given BYPASSRLS (only the cluster superuser can)', async () => {
    const superuser = superuserClient(config);
    await superuser.connect();
    try {
      await superuser.query('ALTER ROLE bi_app BYPASSRLS');
      expect(await findings()).toEqual([{ check: 'application-roles-bypass-rls', key: 'bi_app', tenantId: null }]);
    } finally {
      await superuser.query('ALTER ROLE bi_app NOBYPASSRLS');
      await superuser.end();
    }
  });

  it('orphaned-rows: a message whose lead is gone, loaded while its key was dropped', async () => {
    const orphanLead = randomUUID();
    const found = await withDefect(
      [sql.unsafe`ALTER TABLE lead_messages DROP CONSTRAINT lead_messages_lead_fk`,
        sql.unsafe`INSERT INTO lead_messages (tenant_id, bot_id, lead_id, direction, wa_message_id, body)
                   VALUES (${first.tenantId}, ${first.botId}, ${orphanLead}, 'inbound', 'WAMID-ORPHAN', 'hello?')`,
        sql.unsafe`ALTER TABLE lead_messages ADD CONSTRAINT lead_messages_lead_fk FOREIGN KEY (tenant_id, bot_id, lead_id)
                   REFERENCES leads (tenant_id, bot_id, id) ON DELETE CASCADE NOT VALID`],
      [sql.unsafe`DELETE FROM lead_messages WHERE lead_id = ${orphanLead}`, sql.unsafe`ALTER TABLE lead_messages VALIDATE CONSTRAINT lead_messages_lead_fk`],
      async () => ({ platform: await findings(), own: await findings({ tenantId: first.tenantId }), other: await findings({ tenantId: second.tenantId }) }));
    const [messageId] = found.own.map((finding) => finding.key.split(':')[1]);
    const orphan = { check: 'orphaned-rows', key: `lead_messages:${messageId}:lead_messages_lead_fk`, tenantId: first.tenantId };
    expect(found.platform).toEqual([orphan, { check: 'foreign-keys-not-valid', key: 'lead_messages.lead_messages_lead_fk', tenantId: null }]);
    expect(found.own).toEqual([orphan]);
    expect(found.other).toEqual([]);
  });

  it('orphaned-rows reads every foreign key from an index that leads with its columns, in order (no heap scan of the child)', async () => {
    const unindexed = await db.owner.anyFirst(sql.type(z.object({ name: z.string() }))`
      SELECT c.conname AS name FROM pg_constraint c
       WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
         -- A partial index (WHERE key IS NOT NULL) serves too: a row with a NULL key is never an orphan.
         AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.conrelid
                          AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] = c.conkey)
       ORDER BY 1`);
    expect(unindexed).toEqual([]);
  });

  it("lead-stage-outside-pipeline: a lead moved to another pipeline's stage while the key was off", async () => {
    const found = await withDefect(
      [sql.unsafe`ALTER TABLE leads DROP CONSTRAINT leads_stage_fk`,
        sql.unsafe`INSERT INTO pipelines (id, tenant_id, name) VALUES (${randomUUID()}, ${first.tenantId}, 'Other')`,
        sql.unsafe`INSERT INTO pipeline_stages (tenant_id, pipeline_id, name, position)
                   SELECT tenant_id, id, 'Elsewhere', 0 FROM pipelines WHERE tenant_id = ${first.tenantId} AND name = 'Other'`,
        sql.unsafe`UPDATE leads SET stage_id = (SELECT s.id FROM pipeline_stages s WHERE s.tenant_id = ${first.tenantId} AND s.name = 'Elsewhere')
                    WHERE id = ${first.leadId}`],
      [sql.unsafe`UPDATE leads SET stage_id = ${first.stageIds[0]} WHERE id = ${first.leadId}`,
        sql.unsafe`DELETE FROM pipelines WHERE tenant_id = ${first.tenantId} AND name = 'Other'`,
        sql.unsafe`ALTER TABLE leads ADD CONSTRAINT leads_stage_fk FOREIGN KEY (tenant_id, pipeline_id, stage_id)
                   REFERENCES pipeline_stages (tenant_id, pipeline_id, id) ON DELETE NO ACTION`],
      () => findings());
    // The FK is gone, so orphaned-rows cannot see it: only this check does.
    expect(found).toEqual([{ check: 'lead-stage-outside-pipeline', key: `lead:${first.leadId}`, tenantId: first.tenantId }]);
  });

  it('product-image-of-another-bot: a product showing the picture of a second bot', async () => {
    const otherBot = randomUUID();
    const otherImage = randomUUID();
    const found = await withDefect(
      [sql.unsafe`INSERT INTO bots (id, tenant_id, name, phone_e164) VALUES (${otherBot}, ${first.tenantId}, 'Other bot', '+5511999990001')`,
        sql.unsafe`INSERT INTO bot_images (id, tenant_id, bot_id, object_key, content_type, size_bytes)
                   VALUES (${otherImage}, ${first.tenantId}, ${otherBot}, ${`tenants/${first.tenantId}/images/b.png`}, 'image/png', 10)`,
        sql.unsafe`UPDATE products SET image_id = ${otherImage} WHERE id = ${first.productId}`],
      [sql.unsafe`UPDATE products SET image_id = ${first.imageId} WHERE id = ${first.productId}`, sql.unsafe`DELETE FROM bots WHERE id = ${otherBot}`],
      () => findings());
    expect(found).toEqual([{ check: 'product-image-of-another-bot', key: `product:${first.productId}`, tenantId: first.tenantId }]);
  });

  it('jsonb-documents: tenant settings the API would refuse, within what the database CHECKs allow', async () => {
    const found = await withDefect(
      [sql.unsafe`UPDATE tenants SET settings = '{"retentionDays": 90, "timezone": "Mars/Olympus", "colour": "red"}' WHERE id = ${second.tenantId}`],
      [sql.unsafe`UPDATE tenants SET settings = '{"retentionDays": 90}' WHERE id = ${second.tenantId}`],
      async () => (await runChecks(db.pools.maintenance, INTEGRITY_CHECKS, PLATFORM)).flatMap((result) => result.findings),
      second.tenantId);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ key: `tenant:${second.tenantId}`, tenantId: second.tenantId });
    expect(found[0]!.details).toMatchObject({ document: 'tenants.settings', issues: [
      expect.objectContaining({ path: 'timezone' }),
      expect.objectContaining({ path: '', message: expect.stringContaining('colour') }),
    ] });
  });

  describe('duplicate-lead-identity: one person as two leads of one bot', () => {
    const lead = (waId: string, phone: string | null, lid: string | null) => sql.unsafe`
      INSERT INTO leads (tenant_id, bot_id, wa_id, phone_e164, lid) VALUES (${first.tenantId}, ${first.botId}, ${waId}, ${phone}, ${lid})`;
    const removeLeads = (...waIds: string[]) => sql.unsafe`DELETE FROM leads WHERE tenant_id = ${first.tenantId} AND wa_id = ANY(${sql.array(waIds, 'text')})`;
    const expectOne = (found: Awaited<ReturnType<typeof findings>>, key: string) =>
      expect(found).toEqual([{ check: 'duplicate-lead-identity', key: `bot:${first.botId}:${key}`, tenantId: first.tenantId }]);

    it('the same phone on a phone lead and an @lid lead (the key of the former duplicate-lead-phones)', async () => {
      expectOne(await withDefect([lead('5521987650001', '+5521987650001', null), lead('123456789', '+5521987650001', '123456789')],
        [removeLeads('5521987650001', '123456789')], () => findings()), 'phone:+5521987650001');
    });

    it('one Brazilian mobile with and without its ninth digit, keyed by the nine-digit form; a landline gets no ninth digit', async () => {
      expectOne(await withDefect([lead('552187650002', '+552187650002', null), lead('5521987650002', '+5521987650002', null),
        lead('552133330002', '+552133330002', null), lead('5521933330002', '+5521933330002', null)],
      [removeLeads('552187650002', '5521987650002', '552133330002', '5521933330002')], () => findings()), 'phone:+5521987650002');
    });

    it('an @lid lead whose lid the phone lead holds', async () => {
      expectOne(await withDefect([lead('5521987650003', '+5521987650003', '987650003'), lead('987650003', null, null)],
        [removeLeads('5521987650003', '987650003')], () => findings()), 'lid:987650003');
    });

    it('a phone lead and an @lid lead that a message paired', async () => {
      const pairing = sql.unsafe`INSERT INTO lead_identity_pairings (tenant_id, bot_id, phone_e164, lid)
                                 VALUES (${first.tenantId}, ${first.botId}, '+5521987650004', '987650004')`;
      // Unpaired, they are two people.
      expect(await withDefect([lead('5521987650004', '+5521987650004', null), lead('987650004', null, '987650004')],
        [removeLeads('5521987650004', '987650004')], () => findings())).toEqual([]);
      expectOne(await withDefect([lead('5521987650004', '+5521987650004', null), lead('987650004', null, '987650004'), pairing],
        [removeLeads('5521987650004', '987650004'), sql.unsafe`DELETE FROM lead_identity_pairings WHERE lid = '987650004'`], () => findings()),
      'lid:987650004');
    });
  });

  it('backup-age: the newest complete backup over 26 h old and the last passed drill over 8 days', async () => {
    const backupAged = sql.unsafe`UPDATE backups SET completed_at = now() - interval '27 hours' WHERE id = ${FRESH_BACKUP_ID}`;
    const drillAged = sql.unsafe`UPDATE backup_drills SET finished_at = now() - interval '9 days' WHERE backup_id = ${FRESH_BACKUP_ID}`;
    const fresh = [sql.unsafe`UPDATE backups SET completed_at = now() WHERE id = ${FRESH_BACKUP_ID}`,
      sql.unsafe`UPDATE backup_drills SET finished_at = now() WHERE backup_id = ${FRESH_BACKUP_ID}`];
    // Just inside both limits: nothing.
    expect(await withDefect([sql.unsafe`UPDATE backups SET completed_at = now() - interval '25 hours' WHERE id = ${FRESH_BACKUP_ID}`,
      sql.unsafe`UPDATE backup_drills SET finished_at = now() - interval '7 days' WHERE backup_id = ${FRESH_BACKUP_ID}`], fresh, () => findings())).toEqual([]);
    expect(await withDefect([backupAged], fresh, () => findings())).toEqual([{ check: 'backup-age', key: 'newest-backup', tenantId: null }]);
    expect(await withDefect([drillAged], fresh, () => findings())).toEqual([{ check: 'backup-age', key: 'last-passed-drill', tenantId: null }]);
    // A failed drill proves nothing; a platform-only check, so a tenant run does not report it.
    const found = await withDefect([sql.unsafe`UPDATE backup_drills SET passed = false WHERE backup_id = ${FRESH_BACKUP_ID}`],
      [sql.unsafe`UPDATE backup_drills SET passed = true WHERE backup_id = ${FRESH_BACKUP_ID}`],
      async () => ({ platform: await findings(), own: await findings({ tenantId: first.tenantId }) }));
    expect(found).toEqual({ platform: [{ check: 'backup-age', key: 'last-passed-drill', tenantId: null }], own: [] });
  });

  it('forbidden-nulls: a qualified lead without qualified_at, and audit rows without the row they wrote or replaced', async () => {
    const auditId = randomUUID();
    const found = await withDefect(
      [sql.unsafe`ALTER TABLE leads DISABLE TRIGGER leads_qualification`,
        sql.unsafe`UPDATE leads SET is_qualified = true, qualified_at = NULL WHERE id = ${first.leadId}`,
        sql.unsafe`ALTER TABLE leads ENABLE TRIGGER leads_qualification`,
        sql.unsafe`INSERT INTO data_change_audit (id, tenant_id, table_name, record_id, operation, old_values, new_values, changed_by)
                   VALUES (${auditId}, ${first.tenantId}, 'leads', ${first.leadId}, 'UPDATE', NULL, NULL, 'test')`],
      [sql.unsafe`ALTER TABLE leads DISABLE TRIGGER leads_qualification`,
        sql.unsafe`UPDATE leads SET is_qualified = false WHERE id = ${first.leadId}`,
        sql.unsafe`ALTER TABLE leads ENABLE TRIGGER leads_qualification`,
        sql.unsafe`DELETE FROM data_change_audit WHERE id = ${auditId}`],
      async () => ({ platform: await findings(), own: await findings({ tenantId: first.tenantId }), other: await findings({ tenantId: second.tenantId }) }));
    const holes = [
      // is_qualified with a score of 10 under a threshold of 70 is a derived-data defect as well.
      { check: 'derived-lead-score', key: `lead:${first.leadId}`, tenantId: first.tenantId },
      { check: 'forbidden-nulls', key: `leads.qualified_at:${first.leadId}`, tenantId: first.tenantId },
      { check: 'forbidden-nulls', key: `data_change_audit.new_values:${auditId}`, tenantId: first.tenantId },
      { check: 'forbidden-nulls', key: `data_change_audit.old_values:${auditId}`, tenantId: first.tenantId },
    ];
    expect(found).toEqual({ platform: holes, own: holes, other: [] });
  });

  it('audit-completeness: a lead changed while its audit trigger was off', async () => {
    const found = await withDefect(
      [sql.unsafe`ALTER TABLE leads DISABLE TRIGGER leads_audit`,
        sql.unsafe`UPDATE leads SET name = 'Changed unaudited' WHERE id = ${first.leadId}`,
        sql.unsafe`ALTER TABLE leads ENABLE TRIGGER leads_audit`],
      // An audited change of the row closes the gap.
      [sql.unsafe`UPDATE leads SET name = NULL WHERE id = ${first.leadId}`],
      async () => ({ platform: await findings(), own: await findings({ tenantId: first.tenantId }), other: await findings({ tenantId: second.tenantId }) }));
    const unaudited = { check: 'audit-completeness', key: `leads:${first.leadId}`, tenantId: first.tenantId };
    expect(found).toEqual({ platform: [unaudited], own: [unaudited], other: [] });
    expect(await findings()).toEqual([]);
  });
});
