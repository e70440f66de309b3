// derived-lead-score: a score that is not what the lead's messages score under its bot's rules, or an
// is_qualified the bot's threshold contradicts, is found, fixed (before-image first), verified, and
// restored by undo; leads whose messages predate a rule change, or unchanged for 24 h, are not recomputed.
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
const leadState = z.object({
  score: z.number(), is_qualified: z.boolean(), qualified_at: z.number().nullable(), stage_id: z.uuid().nullable(), events: z.number(),
});
const leadOf = (leadId: string) => db.pools.maintenance.one(sql.type(leadState)`
  SELECT score, is_qualified, qualified_at, stage_id,
         (SELECT count(*)::int FROM lead_events e WHERE e.tenant_id = l.tenant_id AND e.lead_id = l.id) AS events
    FROM leads l WHERE id = ${leadId}`);
const findingRow = z.object({ key: z.string(), details: z.record(z.string(), z.unknown()) });
const runDerived = async () => {
  const run = await activities.integrityRunChecks({ scope: `tenant-${tenant.tenantId}`, workflowId: 'test' });
  const findings = await db.pools.maintenance.any(sql.type(findingRow)`
    SELECT finding_key AS key, details FROM integrity_findings WHERE run_id = ${run.runId} AND check_name = 'derived-lead-score' ORDER BY finding_key`);
  return { fixes: run.fixes.filter((fix) => fix.check === 'derived-lead-score'), findings };
};
const fixAndVerify = async (fixId: string) => ({
  applied: await activities.integrityApplyFix({ fixId, approvedBy: null }),
  verified: await activities.integrityVerifyFixes({ scope: `tenant-${tenant.tenantId}`, fixIds: [fixId] }),
});
const done = (fixId: string) => ({ applied: { fixId, status: 'applied', failure: null }, verified: [{ fixId, status: 'verified', failure: null }] });

describe('data-integrity: derived-lead-score', () => {
  it('finds nothing when every score is what its messages score', async () => {
    expect(await runDerived()).toEqual({ fixes: [], findings: [] });
  });

  it('auto: a score written around the ingest is set back to the recomputed one; undo restores it', async () => {
    await asOwner([sql.unsafe`UPDATE leads SET score = 55 WHERE id = ${tenant.leadId}`]);
    const before = await leadOf(tenant.leadId);
    const { fixes, findings } = await runDerived();
    expect(findings).toEqual([{ key: `lead:${tenant.leadId}`, details: {
      leadId: tenant.leadId, botId: tenant.botId, score: 55, recomputedScore: 10, isQualified: false, threshold: 70,
    } }]);
    expect(fixes).toEqual([{ fixId: expect.any(String), check: 'derived-lead-score', class: 'auto', findingKey: `lead:${tenant.leadId}` }]);
    const { fixId } = fixes[0]!;
    expect(await fixAndVerify(fixId)).toEqual(done(fixId));
    expect(await leadOf(tenant.leadId)).toEqual({ ...before, score: 10 });
    const logged = await db.pools.maintenance.one(sql.type(z.object({ columns: z.array(z.string()), score: z.number() }))`
      SELECT columns, (before_image ->> 'score')::int AS score FROM integrity_fix_log WHERE fix_id = ${fixId}`);
    expect(logged).toEqual({ columns: ['score', 'is_qualified', 'qualified_at', 'pipeline_id', 'stage_id'], score: 55 });

    await activities.integrityUndoFix({ fixId, actor: 'test' });
    expect(await leadOf(tenant.leadId)).toEqual(before);
    await asOwner([sql.unsafe`UPDATE leads SET score = 10 WHERE id = ${tenant.leadId}`]);
  });

  it('auto: a lead whose messages qualify it is qualified by the fix, with its event and stage; undo restores score and stage', async () => {
    // A bot of its own, so the fixture bot's rules stay unchanged for the other tests.
    const botId = randomUUID();
    const leadId = randomUUID();
    await asOwner([
      sql.unsafe`INSERT INTO bots (id, tenant_id, name, phone_e164) VALUES (${botId}, ${tenant.tenantId}, 'Second bot', '+5511999990002')`,
      sql.unsafe`INSERT INTO scoring_rules (tenant_id, bot_id, kind, pattern, weight)
                 VALUES (${tenant.tenantId}, ${botId}, 'keyword', 'urgent', 65), (${tenant.tenantId}, ${botId}, 'keyword', 'price', 10)`,
    ]);
    await asOwner([
      sql.unsafe`INSERT INTO leads (id, tenant_id, bot_id, wa_id, pipeline_id, stage_id, score)
                 VALUES (${leadId}, ${tenant.tenantId}, ${botId}, '5511000000077', ${tenant.pipelineId}, ${tenant.stageIds[0]}, 5)`,
      sql.unsafe`INSERT INTO lead_messages (tenant_id, bot_id, lead_id, direction, wa_message_id, body, created_at)
                 VALUES (${tenant.tenantId}, ${botId}, ${leadId}, 'inbound', 'WAMID-URGENT', 'urgent: the price?', now() + interval '1 second'),
                        (${tenant.tenantId}, ${botId}, ${leadId}, 'outbound', 'WAMID-REPLY', 'urgent price price', now() + interval '2 seconds')`,
    ]);
    try {
      const before = await leadOf(leadId);
      expect(before).toMatchObject({ score: 5, is_qualified: false, qualified_at: null, stage_id: tenant.stageIds[0], events: 0 });
      const { fixes, findings } = await runDerived();
      // Only the inbound message counts: urgent (65) + price (10).
      expect(findings).toEqual([{ key: `lead:${leadId}`, details: expect.objectContaining({ score: 5, recomputedScore: 75, isQualified: false }) }]);
      const { fixId } = fixes[0]!;
      expect(await fixAndVerify(fixId)).toEqual(done(fixId));
      expect(await leadOf(leadId)).toEqual({ score: 75, is_qualified: true, qualified_at: expect.any(Number), stage_id: tenant.stageIds[1], events: 1 });

      await activities.integrityUndoFix({ fixId, actor: 'test' });
      // The owner event stays as history; score, qualification and stage are back.
      expect(await leadOf(leadId)).toEqual({ ...before, events: 1 });
    } finally {
      await asOwner([sql.unsafe`DELETE FROM leads WHERE id = ${leadId}`, sql.unsafe`DELETE FROM bots WHERE id = ${botId}`]);
    }
  });

  it('auto: is_qualified left stale while leads_qualification was off is set from the threshold', async () => {
    await asOwner([
      sql.unsafe`ALTER TABLE leads DISABLE TRIGGER leads_qualification`,
      sql.unsafe`UPDATE leads SET is_qualified = true, qualified_at = now() WHERE id = ${tenant.leadId}`,
      sql.unsafe`ALTER TABLE leads ENABLE TRIGGER leads_qualification`,
    ]);
    const { fixes, findings } = await runDerived();
    expect(findings).toEqual([{ key: `lead:${tenant.leadId}`, details: expect.objectContaining({ score: 10, recomputedScore: 10, isQualified: true, threshold: 70 }) }]);
    const { fixId } = fixes[0]!;
    expect(await fixAndVerify(fixId)).toEqual(done(fixId));
    expect(await leadOf(tenant.leadId)).toMatchObject({ score: 10, is_qualified: false, qualified_at: null });
  });

  it('recomputes only leads changed in the last 24 h', async () => {
    const botId = randomUUID();
    const leadId = randomUUID();
    await asOwner([
      sql.unsafe`INSERT INTO bots (id, tenant_id, name, phone_e164) VALUES (${botId}, ${tenant.tenantId}, 'Third bot', '+5511999990003')`,
      sql.unsafe`INSERT INTO scoring_rules (tenant_id, bot_id, kind, pattern, weight) VALUES (${tenant.tenantId}, ${botId}, 'keyword', 'price', 10)`,
    ]);
    await asOwner([
      sql.unsafe`INSERT INTO leads (id, tenant_id, bot_id, wa_id, score) VALUES (${leadId}, ${tenant.tenantId}, ${botId}, '5511000000078', 30)`,
      sql.unsafe`INSERT INTO lead_messages (tenant_id, bot_id, lead_id, direction, wa_message_id, body, created_at)
                 VALUES (${tenant.tenantId}, ${botId}, ${leadId}, 'inbound', 'WAMID-OLD', 'price?', now() + interval '1 second')`,
      sql.unsafe`ALTER TABLE leads DISABLE TRIGGER leads_touch`,
      sql.unsafe`UPDATE leads SET updated_at = now() - interval '25 hours' WHERE id = ${leadId}`,
      sql.unsafe`ALTER TABLE leads ENABLE TRIGGER leads_touch`,
    ]);
    try {
      expect((await runDerived()).findings).toEqual([]);
      await asOwner([sql.unsafe`UPDATE leads SET name = 'Touched' WHERE id = ${leadId}`]);
      expect((await runDerived()).findings).toEqual([{ key: `lead:${leadId}`, details: expect.objectContaining({ score: 30, recomputedScore: 10 }) }]);
    } finally {
      await asOwner([sql.unsafe`DELETE FROM leads WHERE id = ${leadId}`, sql.unsafe`DELETE FROM bots WHERE id = ${botId}`]);
    }
  });

  it('does not recompute a lead whose messages predate a change of its rules (an added or a deleted rule)', async () => {
    // A rule added after the lead's message would score it 15; deleted again, the audit trail remembers the change.
    await asOwner([sql.unsafe`INSERT INTO scoring_rules (tenant_id, bot_id, kind, pattern, weight) VALUES (${tenant.tenantId}, ${tenant.botId}, 'keyword', 'what', 5)`]);
    expect((await runDerived()).findings).toEqual([]);
    await asOwner([sql.unsafe`DELETE FROM scoring_rules WHERE pattern = 'what'`]);
    await asOwner([sql.unsafe`UPDATE leads SET score = 12 WHERE id = ${tenant.leadId}`]);
    expect((await runDerived()).findings).toEqual([]);
    await asOwner([sql.unsafe`UPDATE leads SET score = 10 WHERE id = ${tenant.leadId}`]);
  });
});
