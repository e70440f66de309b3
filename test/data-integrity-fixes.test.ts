// Fixes of the integrity checks on a database corrupted on purpose: each writes its before-image
// first, is applied once, is verified by re-running its check, and an undo restores the rows.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'slonik';
import { z } from 'zod';
import { loadConfig } from '../core/config.ts';
import { createDataIntegrityActivities, type DataIntegrityActivities } from '../activities/data-integrity/index.ts';
import { FixNotUndoableError } from '../activities/data-integrity/undo-fix.ts';
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
type Transaction = Parameters<Parameters<IntegrityDatabase['owner']['transaction']>[0]>[0];
/** As the owner, in one transaction; RLS is forced on the owner too, so it acts as the tenant. */
const asTenantOwner = <T>(work: (tx: Transaction) => Promise<T>) => db.asTenantOwner(tenant.tenantId, work);
const asOwner = (statements: Statement[]) => asTenantOwner(async (tx) => {
  for (const statement of statements) await tx.query(statement);
});

const row = z.object({ image: z.record(z.string(), z.unknown()) });
/** The row as the owner sees it, as JSON (the shape of a before-image). */
const rowImage = (table: 'lead_messages' | 'products', id: string) => asTenantOwner(async (tx) =>
  (await tx.maybeOne(sql.type(row)`SELECT to_jsonb(t) AS image FROM ${sql.identifier([table])} t WHERE id = ${id}`))?.image ?? null);

const fixLog = (fixId: string) => db.pools.maintenance.any(sql.type(z.object({ operation: z.string(), beforeImage: z.record(z.string(), z.unknown()) }))`
  SELECT operation, before_image AS "beforeImage" FROM integrity_fix_log WHERE fix_id = ${fixId} ORDER BY position`);

const findingsOf = async (check: string) => {
  const run = await activities.integrityRunChecks({ scope: 'platform', workflowId: 'test' });
  const keys = await db.pools.maintenance.anyFirst(sql.type(z.object({ key: z.string() }))`
    SELECT finding_key AS key FROM integrity_findings WHERE run_id = ${run.runId} AND check_name = ${check}`);
  return { run, keys };
};

describe('data-integrity fixes', () => {
  it('a clean database plans no fix', async () => {
    const run = await activities.integrityRunChecks({ scope: 'platform', workflowId: 'test' });
    expect(run).toEqual({ runId: expect.any(String), findings: 0, fixes: [], alerts: [] });
  });

  it('auto: an orphaned message is deleted once with its before-image, verified gone, and restored by undo once its lead is back', async () => {
    const orphanLead = randomUUID();
    await asOwner([
      sql.unsafe`ALTER TABLE lead_messages DROP CONSTRAINT lead_messages_lead_fk`,
      sql.unsafe`INSERT INTO lead_messages (tenant_id, bot_id, lead_id, direction, wa_message_id, body)
                 VALUES (${tenant.tenantId}, ${tenant.botId}, ${orphanLead}, 'inbound', 'WAMID-ORPHAN', 'hello?')`,
      sql.unsafe`ALTER TABLE lead_messages ADD CONSTRAINT lead_messages_lead_fk FOREIGN KEY (tenant_id, bot_id, lead_id)
                 REFERENCES leads (tenant_id, bot_id, id) ON DELETE CASCADE NOT VALID`,
    ]);
    try {
      const messageId = await asTenantOwner((tx) => tx.oneFirst(sql.type(z.object({ id: z.uuid() }))`
        SELECT id FROM lead_messages WHERE lead_id = ${orphanLead}`));
      const before = await rowImage('lead_messages', messageId);

      const { run, keys } = await findingsOf('orphaned-rows');
      expect(keys).toEqual([`lead_messages:${messageId}:lead_messages_lead_fk`]);
      // The key's own validation comes after the orphan fix (test/data-integrity-validate-key.test.ts).
      expect(run.fixes).toEqual([
        { fixId: expect.any(String), check: 'orphaned-rows', class: 'auto', findingKey: keys[0] },
        { fixId: expect.any(String), check: 'foreign-keys-not-valid', class: 'auto', findingKey: 'lead_messages.lead_messages_lead_fk' },
      ]);
      const { fixId } = run.fixes[0]!;

      expect(await activities.integrityApplyFix({ fixId, approvedBy: null })).toEqual({ fixId, status: 'applied', failure: null });
      // Applied once: a repeated activity sees the status and changes nothing.
      expect(await activities.integrityApplyFix({ fixId, approvedBy: null })).toEqual({ fixId, status: 'applied', failure: null });
      expect(await fixLog(fixId)).toEqual([{ operation: 'delete', beforeImage: before }]);
      expect(await rowImage('lead_messages', messageId)).toBeNull();

      expect(await activities.integrityVerifyFixes({ scope: 'platform', fixIds: [fixId] })).toEqual([{ fixId, status: 'verified', failure: null }]);
      expect((await findingsOf('orphaned-rows')).keys).toEqual([]);

      // The lead is still missing: restoring its message would break the key, so the undo is refused whole.
      await expect(activities.integrityUndoFix({ fixId, actor: 'test' })).rejects.toThrow(FixNotUndoableError);
      await expect(activities.integrityUndoFix({ fixId, actor: 'test' })).rejects.toThrow(/lead_messages_lead_fk/);
      expect(await rowImage('lead_messages', messageId)).toBeNull();

      await asOwner([sql.unsafe`INSERT INTO leads (id, tenant_id, bot_id, wa_id) VALUES (${orphanLead}, ${tenant.tenantId}, ${tenant.botId}, '5511000000001')`]);
      await activities.integrityUndoFix({ fixId, actor: 'test' });
      expect(await rowImage('lead_messages', messageId)).toEqual(before);
      await expect(activities.integrityUndoFix({ fixId, actor: 'test' })).rejects.toThrow(/already undone/);
    } finally {
      await asOwner([
        sql.unsafe`DELETE FROM leads WHERE id = ${orphanLead}`,
        sql.unsafe`DELETE FROM lead_messages WHERE lead_id = ${orphanLead}`,
        sql.unsafe`ALTER TABLE lead_messages VALIDATE CONSTRAINT lead_messages_lead_fk`,
      ]);
    }
  });

  it('approval: a product image of another bot is cleared only once approved, verified, and restored by undo', async () => {
    const otherBot = randomUUID();
    const otherImage = randomUUID();
    await asOwner([
      sql.unsafe`INSERT INTO bots (id, tenant_id, name, phone_e164) VALUES (${otherBot}, ${tenant.tenantId}, 'Other bot', '+5511999990001')`,
      sql.unsafe`INSERT INTO bot_images (id, tenant_id, bot_id, object_key, content_type, size_bytes)
                 VALUES (${otherImage}, ${tenant.tenantId}, ${otherBot}, ${`tenants/${tenant.tenantId}/images/b.png`}, 'image/png', 10)`,
      sql.unsafe`UPDATE products SET image_id = ${otherImage} WHERE id = ${tenant.productId}`,
    ]);
    try {
      const before = await rowImage('products', tenant.productId);
      const { run, keys } = await findingsOf('product-image-of-another-bot');
      expect(keys).toEqual([`product:${tenant.productId}`]);
      expect(run.fixes).toEqual([{ fixId: expect.any(String), check: 'product-image-of-another-bot', class: 'approval', findingKey: keys[0] }]);
      const { fixId } = run.fixes[0]!;

      // Without its approval the fix stays planned and the product keeps its image.
      expect(await activities.integrityApplyFix({ fixId, approvedBy: null })).toEqual({ fixId, status: 'planned', failure: null });
      expect(await rowImage('products', tenant.productId)).toEqual(before);

      expect(await activities.integrityApplyFix({ fixId, approvedBy: 'admin' })).toEqual({ fixId, status: 'applied', failure: null });
      expect((await rowImage('products', tenant.productId))!.image_id).toBeNull();
      expect(await fixLog(fixId)).toEqual([{ operation: 'update', beforeImage: before }]);
      expect(await activities.integrityVerifyFixes({ scope: 'platform', fixIds: [fixId] })).toEqual([{ fixId, status: 'verified', failure: null }]);
      expect((await findingsOf('product-image-of-another-bot')).keys).toEqual([]);

      await activities.integrityUndoFix({ fixId, actor: 'test' });
      // Exactly the before-image, but for updated_at, which the touch trigger sets on every update (the undo is one).
      const butUpdatedAt = (image: Record<string, unknown> | null) => ({ ...image, updated_at: undefined });
      expect(butUpdatedAt(await rowImage('products', tenant.productId))).toEqual(butUpdatedAt(before));
      expect((await findingsOf('product-image-of-another-bot')).keys).toEqual([`product:${tenant.productId}`]);
    } finally {
      await asOwner([sql.unsafe`UPDATE products SET image_id = ${tenant.imageId} WHERE id = ${tenant.productId}`, sql.unsafe`DELETE FROM bots WHERE id = ${otherBot}`]);
    }
  });

  it('expired: an approval fix that expires is never applied, even if approved later', async () => {
    const otherBot = randomUUID();
    const otherImage = randomUUID();
    await asOwner([
      sql.unsafe`INSERT INTO bots (id, tenant_id, name, phone_e164) VALUES (${otherBot}, ${tenant.tenantId}, 'Other bot', '+5511999990001')`,
      sql.unsafe`INSERT INTO bot_images (id, tenant_id, bot_id, object_key, content_type, size_bytes)
                 VALUES (${otherImage}, ${tenant.tenantId}, ${otherBot}, ${`tenants/${tenant.tenantId}/images/b.png`}, 'image/png', 10)`,
      sql.unsafe`UPDATE products SET image_id = ${otherImage} WHERE id = ${tenant.productId}`,
    ]);
    try {
      await findingsOf('product-image-of-another-bot');
      // The one fix waiting for this defect (planned by this run, or carried over from the last one: never two).
      const [fixId, ...more] = await db.pools.maintenance.anyFirst(sql.type(z.object({ id: z.uuid() }))`
        SELECT x.id FROM integrity_fixes x JOIN integrity_findings f ON f.id = x.finding_id
         WHERE f.finding_key = ${`product:${tenant.productId}`} AND x.status = 'planned'`);
      expect(more).toEqual([]);
      await activities.integrityExpireFixes({ fixIds: [fixId!] });
      expect(await activities.integrityApplyFix({ fixId: fixId!, approvedBy: 'admin' })).toEqual({ fixId, status: 'expired', failure: null });
      expect((await rowImage('products', tenant.productId))!.image_id).toBe(otherImage);
    } finally {
      await asOwner([sql.unsafe`UPDATE products SET image_id = ${tenant.imageId} WHERE id = ${tenant.productId}`, sql.unsafe`DELETE FROM bots WHERE id = ${otherBot}`]);
    }
  });
});
