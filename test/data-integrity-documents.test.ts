// jsonb-documents: tenant settings, schedule actions and bot feature options, each against the
// schema the platform enforces on write; and the approval fix of tenant settings (unknown keys
// dropped, invalid values reset to their defaults), with its before-image and undo.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'slonik';
import { z } from 'zod';
import { loadConfig } from '../core/config.ts';
import { repairDocument } from '../core/data-integrity/repair-document.ts';
import { tenantSettingsSchema } from '../core/tenant-settings.ts';
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
const findingRow = z.object({ key: z.string(), details: z.record(z.string(), z.unknown()) });
const runDocuments = async () => {
  const run = await activities.integrityRunChecks({ scope: 'platform', workflowId: 'test' });
  const findings = await db.pools.maintenance.any(sql.type(findingRow)`
    SELECT finding_key AS key, details FROM integrity_findings WHERE run_id = ${run.runId} AND check_name = 'jsonb-documents' ORDER BY finding_key`);
  return { run, findings };
};
const settingsOf = () => db.asTenantOwner(tenant.tenantId, async (tx) => {
  return tx.oneFirst(sql.type(z.object({ settings: z.unknown() }))`SELECT settings FROM tenants WHERE id = ${tenant.tenantId}`);
});

describe('repairDocument', () => {
  it('drops unknown keys at any depth and removes invalid values, so their defaults apply', () => {
    expect(repairDocument(tenantSettingsSchema, {
      retentionDays: 90, timezone: 'Mars/Olympus', colour: 'red', leadFields: ['name', 'shoe size'], replies: { greeting: 'Oi!', pricing: '', typo: 'x' },
    })).toEqual({
      repaired: { retentionDays: 90, replies: { greeting: 'Oi!' } },
      removed: expect.arrayContaining(['timezone', 'colour', 'leadFields', 'replies.pricing', 'replies.typo']),
    });
    expect(repairDocument(tenantSettingsSchema, ['not', 'an', 'object'])).toEqual({ repaired: {}, removed: ['(root)'] });
    expect(repairDocument(tenantSettingsSchema, { retentionDays: 90 })).toEqual({ repaired: { retentionDays: 90 }, removed: [] });
  });
});

describe('data-integrity: jsonb-documents', () => {
  it('finds a schedule action and bot feature options that fail their schemas, with no fix', async () => {
    const scheduleId = await db.asTenantOwner(tenant.tenantId, async (tx) => {
      await tx.query(sql.unsafe`UPDATE bot_features SET config = '{"Max Items": [1, 2]}' WHERE tenant_id = ${tenant.tenantId}`);
      return tx.oneFirst(sql.type(z.object({ id: z.uuid() }))`
        UPDATE schedules SET action = '{"type": "broadcast"}' WHERE tenant_id = ${tenant.tenantId} RETURNING id`);
    });
    const featureId = await db.pools.maintenance.oneFirst(sql.type(z.object({ id: z.uuid() }))`SELECT id FROM bot_features WHERE tenant_id = ${tenant.tenantId}`);
    try {
      const { run, findings } = await runDocuments();
      expect(findings).toEqual([
        { key: `bot-feature:${featureId}`, details: {
          document: 'bot_features.config', id: featureId, botId: tenant.botId,
          issues: [expect.objectContaining({ path: 'Max Items' })],
        } },
        { key: `schedule:${scheduleId}`, details: {
          document: 'schedules.action', id: scheduleId, botId: tenant.botId, issues: [expect.objectContaining({ path: 'message' })],
        } },
      ]);
      expect(run.fixes).toEqual([]);
    } finally {
      await asOwner([
        sql.unsafe`UPDATE bot_features SET config = '{}' WHERE tenant_id = ${tenant.tenantId}`,
        sql.unsafe`UPDATE schedules SET action = '{"type": "follow_up"}' WHERE tenant_id = ${tenant.tenantId}`,
      ]);
    }
    expect((await runDocuments()).findings).toEqual([]);
  });

  it('approval: invalid tenant settings are repaired only once approved, verified, and restored by undo', async () => {
    const stored = { retentionDays: 90, timezone: 'Mars/Olympus', colour: 'red', replies: { greeting: 'Oi!', pricing: '   ' } };
    await asOwner([sql.unsafe`UPDATE tenants SET settings = ${sql.jsonb(stored)} WHERE id = ${tenant.tenantId}`]);
    const { run, findings } = await runDocuments();
    expect(findings).toEqual([{ key: `tenant:${tenant.tenantId}`, details: expect.objectContaining({
      document: 'tenants.settings', stored, repaired: { retentionDays: 90, replies: { greeting: 'Oi!' } },
      removed: expect.arrayContaining(['timezone', 'colour', 'replies.pricing']),
    }) }]);
    expect(run.fixes).toEqual([{ fixId: expect.any(String), check: 'jsonb-documents', class: 'approval', findingKey: `tenant:${tenant.tenantId}` }]);
    const { fixId } = run.fixes[0]!;

    expect(await activities.integrityApplyFix({ fixId, approvedBy: null })).toEqual({ fixId, status: 'planned', failure: null });
    expect(await settingsOf()).toEqual(stored);

    expect(await activities.integrityApplyFix({ fixId, approvedBy: 'admin' })).toEqual({ fixId, status: 'applied', failure: null });
    expect(await settingsOf()).toEqual({ retentionDays: 90, replies: { greeting: 'Oi!' } });
    const log = await db.pools.maintenance.any(sql.type(z.object({ operation: z.string(), columns: z.array(z.string()), settings: z.unknown() }))`
      SELECT operation, columns, before_image -> 'settings' AS settings FROM integrity_fix_log WHERE fix_id = ${fixId}`);
    expect(log).toEqual([{ operation: 'update', columns: ['settings'], settings: stored }]);
    expect(await activities.integrityVerifyFixes({ scope: 'platform', fixIds: [fixId] })).toEqual([{ fixId, status: 'verified', failure: null }]);

    await activities.integrityUndoFix({ fixId, actor: 'test' });
    expect(await settingsOf()).toEqual(stored);
    await asOwner([sql.unsafe`UPDATE tenants SET settings = '{"retentionDays": 90}' WHERE id = ${tenant.tenantId}`]);
  });

  it('approval: settings changed after the finding are not overwritten; the fix fails with the reason', async () => {
    await asOwner([sql.unsafe`UPDATE tenants SET settings = '{"retentionDays": 90, "colour": "red"}' WHERE id = ${tenant.tenantId}`]);
    const { run } = await runDocuments();
    const { fixId } = run.fixes[0]!;
    await asOwner([sql.unsafe`UPDATE tenants SET settings = '{"retentionDays": 30, "colour": "blue"}' WHERE id = ${tenant.tenantId}`]);
    expect(await activities.integrityApplyFix({ fixId, approvedBy: 'admin' })).toEqual({
      fixId, status: 'failed', failure: expect.stringMatching(/^DocumentChangedError: tenant .* settings changed since they were found invalid/),
    });
    expect(await settingsOf()).toEqual({ retentionDays: 30, colour: 'blue' });
    await asOwner([sql.unsafe`UPDATE tenants SET settings = '{"retentionDays": 90}' WHERE id = ${tenant.tenantId}`]);
  });
});
