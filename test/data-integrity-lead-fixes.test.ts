// The lead fixes of the integrity checks on a database corrupted on purpose: the lead-stage move and
// the identity merge. Each is applied only once approved, leaves its check clean, and an undo
// restores every row it touched (compared as to_jsonb); a merge keeps every message and event, and
// one that cannot move a row changes nothing at all.
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { sql } from 'slonik';
import { z } from 'zod';
import { loadConfig } from '../core/config.ts';
import { connectTemporalClient, connectTemporalWorker } from '../core/temporal/client.ts';
import { APPROVE_FIXES_SIGNAL, integrityWorkflowId } from '../core/temporal/data-integrity.ts';
import type { awaitIntegrityApprovals, dataIntegrityRun } from '../workflows/data-integrity.ts';
import { createDataIntegrityActivities, type DataIntegrityActivities } from '../activities/data-integrity/index.ts';
import { createLeadActivities } from '../activities/lead-conversation/ingest.ts';
import { lockIdentifiers } from '../activities/lead-conversation/identity.ts';
import { createScoringPool } from '../activities/scoring/pool.ts';
import { createIntegrityDatabase, type IntegrityDatabase } from './support/integrity-database.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

const config = loadConfig();
const scoring = createScoringPool(config.conversation.scoring);
let db: IntegrityDatabase;
let tenant: TenantGraph;
let activities: DataIntegrityActivities;

beforeAll(async () => {
  db = await createIntegrityDatabase(config);
  tenant = await seedTenant(db.withTenant);
  activities = createDataIntegrityActivities({ maintenancePool: db.pools.maintenance });
});
afterAll(async () => {
  await scoring.close();
  await db.drop();
});

type Statement = ReturnType<typeof sql.unsafe>;
type Transaction = Parameters<Parameters<IntegrityDatabase['owner']['transaction']>[0]>[0];
/** As the owner, in one transaction; RLS is forced on the owner too, so it acts as the tenant. */
const asTenantOwner = <T>(work: (tx: Transaction) => Promise<T>) => db.asTenantOwner(tenant.tenantId, work);
const asOwner = (statements: Statement[]) => asTenantOwner(async (tx) => {
  for (const statement of statements) await tx.query(statement);
});
const idOf = (statement: Statement) => asTenantOwner((tx) => tx.oneFirst(sql.type(z.object({ id: z.uuid() }))`${statement}`));

const LEAD_TABLES = ['leads', 'lead_messages', 'lead_stage_events', 'lead_events'] as const;
/** Every row of these leads and of the rows that belong to them, as JSON, keyed `table:id`. */
const imagesOf = (leadIds: readonly string[]) => asTenantOwner(async (tx) => {
  const images: Record<string, Record<string, unknown>> = {};
  for (const table of LEAD_TABLES) {
    const column = sql.identifier([table === 'leads' ? 'id' : 'lead_id']);
    const rows = await tx.any(sql.type(z.object({ id: z.uuid(), image: z.record(z.string(), z.unknown()) }))`
      SELECT id, to_jsonb(t) AS image FROM ${sql.identifier([table])} t WHERE ${column} = ANY(${sql.array([...leadIds], 'uuid')})`);
    for (const { id, image } of rows) images[`${table}:${id}`] = image;
  }
  return images;
});
const countsOf = (leadId: string) => asTenantOwner((tx) => tx.one(sql.type(z.object({ messages: z.number(), stageEvents: z.number(), leadEvents: z.number() }))`
  SELECT (SELECT count(*)::int FROM lead_messages WHERE lead_id = ${leadId}) AS messages,
         (SELECT count(*)::int FROM lead_stage_events WHERE lead_id = ${leadId}) AS "stageEvents",
         (SELECT count(*)::int FROM lead_events WHERE lead_id = ${leadId}) AS "leadEvents"`));
/** updated_at is set by the touch trigger on every update, and an undo is one. */
const butUpdatedAt = (images: Record<string, Record<string, unknown>>, ...ids: string[]) =>
  Object.fromEntries(Object.entries(images).map(([key, image]) => [key, ids.some((id) => key === `leads:${id}`) ? { ...image, updated_at: undefined } : image]));

const fixLogOperations = (fixId: string) => db.pools.maintenance.anyFirst(sql.type(z.object({ entry: z.string() }))`
  SELECT operation || ' ' || table_name AS entry FROM integrity_fix_log WHERE fix_id = ${fixId} ORDER BY position`);

const planned = async (check: string) => {
  const run = await activities.integrityRunChecks({ scope: 'platform', workflowId: 'test' });
  const findings = await db.pools.maintenance.any(sql.type(z.object({ key: z.string(), details: z.record(z.string(), z.unknown()) }))`
    SELECT finding_key AS key, details FROM integrity_findings WHERE run_id = ${run.runId} AND check_name = ${check} ORDER BY finding_key`);
  return { findings, fixes: run.fixes.filter((fix) => fix.check === check) };
};

describe('lead-stage-outside-pipeline fix (approval)', () => {
  it('moves the lead to the stage of the same name in its pipeline, else to its first stage, with a stage event; undo restores both leads', async () => {
    const [newStage, qualifiedStage] = tenant.stageIds;
    const otherPipeline = await idOf(sql.unsafe`INSERT INTO pipelines (tenant_id, name) VALUES (${tenant.tenantId}, 'Support') RETURNING id`);
    const otherQualified = await idOf(sql.unsafe`
      INSERT INTO pipeline_stages (tenant_id, pipeline_id, name, position) VALUES (${tenant.tenantId}, ${otherPipeline}, 'Qualified', 0) RETURNING id`);
    const leadOf = (waId: string) => idOf(sql.unsafe`
      INSERT INTO leads (tenant_id, bot_id, wa_id, pipeline_id, stage_id) VALUES (${tenant.tenantId}, ${tenant.botId}, ${waId}, ${tenant.pipelineId}, ${newStage}) RETURNING id`);
    const [namesake, lost] = [await leadOf('5521987670001'), await leadOf('5521987670002')];
    await asOwner([
      sql.unsafe`ALTER TABLE leads DROP CONSTRAINT leads_stage_fk`,
      sql.unsafe`UPDATE leads SET stage_id = ${otherQualified} WHERE id = ${namesake}`,
      sql.unsafe`UPDATE leads SET stage_id = ${randomUUID()} WHERE id = ${lost}`,
    ]);
    try {
      const before = await imagesOf([namesake, lost]);
      const { findings, fixes } = await planned('lead-stage-outside-pipeline');
      expect(findings.map((finding) => finding.key).sort()).toEqual([`lead:${namesake}`, `lead:${lost}`].sort());
      expect(fixes.map((fix) => fix.class)).toEqual(['approval', 'approval']);

      for (const { fixId } of fixes) expect(await activities.integrityApplyFix({ fixId, approvedBy: null })).toEqual({ fixId, status: 'planned', failure: null });
      expect(await imagesOf([namesake, lost])).toEqual(before);

      for (const { fixId } of fixes) expect(await activities.integrityApplyFix({ fixId, approvedBy: 'admin' })).toEqual({ fixId, status: 'applied', failure: null });
      for (const { fixId } of fixes) expect(await fixLogOperations(fixId)).toEqual(['update leads', 'insert lead_stage_events']);
      const after = await imagesOf([namesake, lost]);
      expect(after[`leads:${namesake}`]).toMatchObject({ pipeline_id: tenant.pipelineId, stage_id: qualifiedStage });
      expect(after[`leads:${lost}`]).toMatchObject({ pipeline_id: tenant.pipelineId, stage_id: newStage });
      const events = Object.values(after).filter((image) => 'reason' in image).map(({ lead_id, from_stage_id, to_stage_id, reason }) => ({ lead_id, from_stage_id, to_stage_id, reason }));
      expect(events).toEqual(expect.arrayContaining([
        { lead_id: namesake, from_stage_id: otherQualified, to_stage_id: qualifiedStage, reason: expect.stringMatching(/^data integrity: stage .* moved to "Qualified"$/) },
        // The stage that does not exist cannot be referenced: the event says where from in its reason.
        { lead_id: lost, from_stage_id: null, to_stage_id: newStage, reason: expect.stringMatching(/^data integrity: stage .* moved to "New"$/) },
      ]));
      expect(await activities.integrityVerifyFixes({ scope: 'platform', fixIds: fixes.map((fix) => fix.fixId) }))
        .toEqual(fixes.map(({ fixId }) => ({ fixId, status: 'verified', failure: null })));
      expect((await planned('lead-stage-outside-pipeline')).findings).toEqual([]);

      for (const { fixId } of fixes) await activities.integrityUndoFix({ fixId, actor: 'test' });
      expect(butUpdatedAt(await imagesOf([namesake, lost]), namesake, lost)).toEqual(butUpdatedAt(before, namesake, lost));
    } finally {
      await asOwner([
        sql.unsafe`DELETE FROM leads WHERE id IN (${namesake}, ${lost})`,
        sql.unsafe`DELETE FROM pipelines WHERE id = ${otherPipeline}`,
        sql.unsafe`ALTER TABLE leads ADD CONSTRAINT leads_stage_fk FOREIGN KEY (tenant_id, pipeline_id, stage_id)
                   REFERENCES pipeline_stages (tenant_id, pipeline_id, id) ON DELETE NO ACTION`,
      ]);
    }
  });
});

describe('duplicate-lead-identity merge (approval)', () => {
  /** A person known by phone (the older lead) and by @lid (the newer one), each with its own history, paired by a message. */
  const plantPerson = async (n: number, options: { keptScore: number; mergedScore: number }) => {
    const [phoneDigits, lid] = [`55219876${String(80000 + n)}`, `98768${String(n).padStart(4, '0')}`];
    const [newStage, qualifiedStage] = tenant.stageIds;
    const kept = await idOf(sql.unsafe`
      INSERT INTO leads (tenant_id, bot_id, wa_id, phone_e164, name, score, tags, owner_user_id, pipeline_id, stage_id, created_at, last_message_at)
      VALUES (${tenant.tenantId}, ${tenant.botId}, ${phoneDigits}, ${`+${phoneDigits}`}, 'Ana', ${options.keptScore}, '{pricing}', ${tenant.userId},
              ${tenant.pipelineId}, ${newStage}, now() - interval '1 day', now() - interval '1 day') RETURNING id`);
    const merged = await idOf(sql.unsafe`
      INSERT INTO leads (tenant_id, bot_id, wa_id, lid, email, company, score, tags, assigned_to_user_id, pipeline_id, stage_id, last_message_at)
      VALUES (${tenant.tenantId}, ${tenant.botId}, ${lid}, ${lid}, 'ana@example.com', 'Acme', ${options.mergedScore}, '{demo}', ${tenant.userId},
              ${tenant.pipelineId}, ${qualifiedStage}, now()) RETURNING id`);
    const message = (leadId: string, direction: string, id: string) => sql.unsafe`
      INSERT INTO lead_messages (tenant_id, bot_id, lead_id, direction, wa_message_id, body) VALUES (${tenant.tenantId}, ${tenant.botId}, ${leadId}, ${direction}, ${id}, 'oi')`;
    await asOwner([
      message(kept, 'inbound', `K1-${n}`), message(kept, 'outbound', `K2-${n}`), message(kept, 'inbound', `K3-${n}`),
      message(merged, 'inbound', `M1-${n}`), message(merged, 'outbound', `M2-${n}`),
      sql.unsafe`INSERT INTO lead_stage_events (tenant_id, lead_id, to_stage_id, reason) VALUES (${tenant.tenantId}, ${kept}, ${newStage}, 'created')`,
      sql.unsafe`INSERT INTO lead_stage_events (tenant_id, lead_id, to_stage_id, reason) VALUES (${tenant.tenantId}, ${merged}, ${qualifiedStage}, 'moved by hand')`,
      sql.unsafe`INSERT INTO lead_events (tenant_id, lead_id, kind) VALUES (${tenant.tenantId}, ${merged}, 'lead.qualified')`,
      sql.unsafe`INSERT INTO lead_identity_pairings (tenant_id, bot_id, phone_e164, lid) VALUES (${tenant.tenantId}, ${tenant.botId}, ${`+${phoneDigits}`}, ${lid})`,
      // Qualified two days ago (its trigger wrote its event then): an undo must bring back that date, not a new one.
      sql.unsafe`UPDATE leads SET qualified_at = now() - interval '2 days' WHERE id = ${merged} AND is_qualified`,
    ]);
    return { kept, merged, lid, phoneDigits, key: `bot:${tenant.botId}:lid:${lid}` };
  };
  const removePerson = (person: { kept: string; merged: string; lid: string }) => asOwner([
    sql.unsafe`DELETE FROM leads WHERE id IN (${person.kept}, ${person.merged})`,
    sql.unsafe`DELETE FROM lead_identity_pairings WHERE lid = ${person.lid}`,
  ]);

  it('moves every message and event to the older lead, adds the score, fills in the details, deletes the newer lead; undo restores both exactly', async () => {
    const person = await plantPerson(1, { keptScore: 30, mergedScore: 75 });
    try {
      const before = await imagesOf([person.kept, person.merged]);
      const [keptCounts, mergedCounts] = [await countsOf(person.kept), await countsOf(person.merged)];
      const { findings, fixes } = await planned('duplicate-lead-identity');
      expect(findings).toEqual([{ key: person.key, details: expect.objectContaining({ leadIds: [person.kept, person.merged], keptLeadId: person.kept }) }]);
      expect(fixes).toEqual([{ fixId: expect.any(String), check: 'duplicate-lead-identity', class: 'approval', findingKey: person.key }]);
      const { fixId } = fixes[0]!;

      expect(await activities.integrityApplyFix({ fixId, approvedBy: null })).toEqual({ fixId, status: 'planned', failure: null });
      expect(await imagesOf([person.kept, person.merged])).toEqual(before);
      expect(await activities.integrityApplyFix({ fixId, approvedBy: 'admin' })).toEqual({ fixId, status: 'applied', failure: null });

      // Every message and event kept, on the older lead; the sum (105) qualified it: its trigger wrote one event more.
      expect(await countsOf(person.kept)).toEqual({
        messages: keptCounts.messages + mergedCounts.messages, stageEvents: keptCounts.stageEvents + mergedCounts.stageEvents,
        leadEvents: keptCounts.leadEvents + mergedCounts.leadEvents + 1,
      });
      const after = await imagesOf([person.kept, person.merged]);
      expect(after[`leads:${person.merged}`]).toBeUndefined();
      expect(after[`leads:${person.kept}`]).toMatchObject({
        wa_id: person.phoneDigits, phone_e164: `+${person.phoneDigits}`, lid: person.lid, name: 'Ana', email: 'ana@example.com', company: 'Acme',
        score: 105, is_qualified: true, tags: ['demo', 'pricing'], owner_user_id: tenant.userId, assigned_to_user_id: tenant.userId,
        // The further stage of the two (both in one pipeline).
        pipeline_id: tenant.pipelineId, stage_id: tenant.stageIds[1], last_message_at: before[`leads:${person.merged}`]!.last_message_at,
      });
      const moved = Object.keys(before).filter((key) => !key.startsWith('leads:'));
      for (const key of moved) expect(after[key]).toEqual({ ...before[key], lead_id: person.kept });
      expect(await fixLogOperations(fixId)).toEqual([
        'update lead_events', 'update lead_events', 'update lead_messages', 'update lead_messages', 'update lead_stage_events',
        'delete leads', 'update leads', 'insert lead_events',
      ]);

      expect(await activities.integrityVerifyFixes({ scope: 'platform', fixIds: [fixId] })).toEqual([{ fixId, status: 'verified', failure: null }]);
      expect((await planned('duplicate-lead-identity')).findings).toEqual([]);

      // Undo: the trigger's event deleted, the kept lead's columns back, the merged lead re-inserted as it was
      // (no second qualification event, its own dates), then the rows moved back onto it.
      await activities.integrityUndoFix({ fixId, actor: 'test' });
      expect(butUpdatedAt(await imagesOf([person.kept, person.merged]), person.kept)).toEqual(butUpdatedAt(before, person.kept));
      expect((await planned('duplicate-lead-identity')).findings.map((finding) => finding.key)).toEqual([person.key]);
    } finally {
      await removePerson(person);
    }
  });

  it('finds a phone lead and an @lid lead that one message paired, as the ingest records it', async () => {
    const conversation = createLeadActivities({ withTenant: db.withTenant, chatComposerConfigured: false, scoring });
    const message = (waMessageId: string, fields: { waId: string; phoneE164?: string; lid?: string }) => ({
      tenantId: tenant.tenantId, botId: tenant.botId, waMessageId, text: 'oi', receivedAt: new Date().toISOString(), ...fields,
    });
    const phoneLead = await conversation.ingestInbound(message('PAIR-1', { waId: '5521987690001', phoneE164: '+5521987690001' }));
    const lidLead = await conversation.ingestInbound(message('PAIR-2', { waId: '987690001', lid: '987690001' }));
    try {
      expect((await planned('duplicate-lead-identity')).findings).toEqual([]);
      // WhatsApp pairs them; the message goes to the phone lead, the lid stays with its lead (never merged on arrival).
      expect((await conversation.ingestInbound(message('PAIR-3', { waId: '5521987690001', phoneE164: '+5521987690001', lid: '987690001' }))).leadId)
        .toBe(phoneLead.leadId);
      expect((await planned('duplicate-lead-identity')).findings).toEqual([{
        key: `bot:${tenant.botId}:lid:987690001`, details: expect.objectContaining({ leadIds: [phoneLead.leadId, lidLead.leadId] }),
      }]);
    } finally {
      await asOwner([sql.unsafe`DELETE FROM leads WHERE id IN (${phoneLead.leadId}, ${lidLead.leadId})`, sql.unsafe`DELETE FROM lead_identity_pairings WHERE lid = '987690001'`]);
    }
  });

  it('a merge that cannot move one row rolls back whole: both leads and all their rows unchanged, nothing logged', async () => {
    const person = await plantPerson(2, { keptScore: 0, mergedScore: 0 });
    const otherBot = randomUUID();
    await asOwner([
      sql.unsafe`INSERT INTO bots (id, tenant_id, name, phone_e164) VALUES (${otherBot}, ${tenant.tenantId}, 'Other bot', '+5511999990002')`,
      sql.unsafe`ALTER TABLE lead_messages DROP CONSTRAINT lead_messages_lead_fk`,
      // A message of the newer lead filed under another bot: it cannot follow the person to the kept lead.
      sql.unsafe`INSERT INTO lead_messages (tenant_id, bot_id, lead_id, direction, wa_message_id, body)
                 VALUES (${tenant.tenantId}, ${otherBot}, ${person.merged}, 'inbound', 'CONFLICT-1', 'oi')`,
      sql.unsafe`ALTER TABLE lead_messages ADD CONSTRAINT lead_messages_lead_fk FOREIGN KEY (tenant_id, bot_id, lead_id)
                 REFERENCES leads (tenant_id, bot_id, id) ON DELETE CASCADE NOT VALID`,
    ]);
    try {
      const before = await imagesOf([person.kept, person.merged]);
      const { fixes } = await planned('duplicate-lead-identity');
      const { fixId } = fixes.find((fix) => fix.findingKey === person.key)!;
      expect(await activities.integrityApplyFix({ fixId, approvedBy: 'admin' }))
        .toEqual({ fixId, status: 'failed', failure: expect.stringContaining('lead_messages_lead_fk') });
      expect(await imagesOf([person.kept, person.merged])).toEqual(before);
      expect(await fixLogOperations(fixId)).toEqual([]);
    } finally {
      await asOwner([
        sql.unsafe`DELETE FROM lead_messages WHERE wa_message_id = 'CONFLICT-1'`,
        sql.unsafe`ALTER TABLE lead_messages VALIDATE CONSTRAINT lead_messages_lead_fk`,
        sql.unsafe`DELETE FROM bots WHERE id = ${otherBot}`,
      ]);
      await removePerson(person);
    }
  });

  it("the lead workflows cannot corrupt it: a message ingested during the merge is moved too, a reply and a message after it go to the kept lead", async () => {
    const person = await plantPerson(3, { keptScore: 0, mergedScore: 0 });
    const conversation = createLeadActivities({ withTenant: db.withTenant, chatComposerConfigured: false, scoring });
    const inbound = (waMessageId: string) => ({
      tenantId: tenant.tenantId, botId: tenant.botId, waId: person.lid, lid: person.lid, waMessageId, text: 'oi', receivedAt: new Date().toISOString(),
    });
    try {
      const { fixes } = await planned('duplicate-lead-identity');
      const { fixId } = fixes.find((fix) => fix.findingKey === person.key)!;
      const answered = await conversation.ingestInbound(inbound('DURING-0'));
      expect(answered.leadId).toBe(person.merged);

      // A message of the @lid lead being ingested (its identity locks held) while the merge is approved.
      let release = () => undefined as void;
      const gate = new Promise<void>((resolve) => { release = resolve; });
      const ingesting = db.withTenant(tenant.tenantId, async (tx) => {
        await lockIdentifiers(tx, tenant.tenantId, tenant.botId, [{ waId: person.lid, lid: person.lid }]);
        await tx.query(sql.unsafe`INSERT INTO lead_messages (tenant_id, bot_id, lead_id, direction, wa_message_id, body)
                                  VALUES (${tenant.tenantId}, ${tenant.botId}, ${person.merged}, 'inbound', 'DURING-1', 'oi')`);
        await tx.query(sql.unsafe`UPDATE leads SET last_message_at = now() WHERE id = ${person.merged}`);
        await gate;
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      const applying = activities.integrityApplyFix({ fixId, approvedBy: 'admin' }).then((outcome) => outcome, (error: Error) => error);
      await new Promise((resolve) => setTimeout(resolve, 300));
      release();
      await ingesting;
      // The merge waited for the message; its snapshot predates it, so it fails retryably (Temporal retries it) or sees it.
      const first = await applying;
      if (first instanceof Error) {
        expect(first.message).toMatch(/serializ|concurrent update/i);
        expect(await activities.integrityApplyFix({ fixId, approvedBy: 'admin' })).toEqual({ fixId, status: 'applied', failure: null });
      } else {
        expect(first).toEqual({ fixId, status: 'applied', failure: null });
      }
      expect(await countsOf(person.merged)).toEqual({ messages: 0, stageEvents: 0, leadEvents: 0 });
      expect((await countsOf(person.kept)).messages).toBe(3 + 2 + 2);

      // The reply to DURING-0 was sent before the merge and is recorded after it, under the deleted lead's id.
      await conversation.recordOutbound({
        tenantId: tenant.tenantId, botId: tenant.botId, leadId: person.merged, inReplyTo: 'DURING-0', waMessageId: 'REPLY-0', text: 'olá',
      });
      // The @lid workflow's next message finds the kept lead by the lid it took over.
      expect((await conversation.ingestInbound(inbound('AFTER-1'))).leadId).toBe(person.kept);
      expect((await countsOf(person.kept)).messages).toBe(3 + 2 + 2 + 2);
    } finally {
      await removePerson(person);
    }
  });
});

describe('duplicate-lead-identity merge through the integrity workflow (real Temporal)', () => {
  const taskQueue = `integrity-leads-test-${randomUUID().slice(0, 8)}`;
  let worker: Worker;
  let running: Promise<void>;
  let close: () => Promise<void>;
  let client: Awaited<ReturnType<typeof connectTemporalClient>>;

  beforeAll(async () => {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    client = await connectTemporalClient(config.temporal);
    const workerConnection = await connectTemporalWorker(config.temporal);
    worker = await Worker.create({
      ...workerConnection, taskQueue,
      workflowsPath: fileURLToPath(new URL('../workflows/index.ts', import.meta.url)),
      activities: createDataIntegrityActivities({ maintenancePool: db.pools.maintenance }),
    });
    running = worker.run();
    close = async () => {
      worker.shutdown();
      await running;
      await workerConnection.connection.close();
      await client.connection.close();
    };
  }, 120_000);
  afterAll(async () => {
    await close();
  });

  it('plans the merge, leaves both leads alone until the approval signal, then merges and verifies it', async () => {
    const kept = await idOf(sql.unsafe`
      INSERT INTO leads (tenant_id, bot_id, wa_id, phone_e164, created_at) VALUES (${tenant.tenantId}, ${tenant.botId}, '552187690009', '+552187690009', now() - interval '1 hour') RETURNING id`);
    const merged = await idOf(sql.unsafe`
      INSERT INTO leads (tenant_id, bot_id, wa_id, phone_e164) VALUES (${tenant.tenantId}, ${tenant.botId}, '5521987690009', '+5521987690009') RETURNING id`);
    await asOwner([sql.unsafe`
      INSERT INTO lead_messages (tenant_id, bot_id, lead_id, direction, wa_message_id, body)
      SELECT ${tenant.tenantId}, ${tenant.botId}, lead, 'inbound', 'WF-' || n, 'oi' FROM unnest(${sql.array([kept, merged, merged], 'uuid')}::uuid[]) WITH ORDINALITY AS m (lead, n)`]);
    try {
      const scope = `tenant-${tenant.tenantId}`;
      const result = await client.workflow.execute<typeof dataIntegrityRun>('dataIntegrityRun', {
        taskQueue, workflowId: integrityWorkflowId(scope), args: [{ scope, approvalTimeoutMs: 60_000 }], workflowExecutionTimeout: '2 minutes',
      });
      const fixId = await db.pools.maintenance.oneFirst(sql.type(z.object({ id: z.uuid() }))`
        SELECT x.id FROM integrity_fixes x JOIN integrity_findings f ON f.id = x.finding_id
         WHERE f.run_id = ${result.runId} AND f.check_name = 'duplicate-lead-identity'`);
      expect(result.fixes).toEqual([{ fixId, status: 'planned', failure: null }]);
      expect(await countsOf(merged)).toMatchObject({ messages: 2 });

      const approvals = client.workflow.getHandle<typeof awaitIntegrityApprovals>(result.approvalsWorkflowId!);
      await approvals.signal(APPROVE_FIXES_SIGNAL, { fixIds: [fixId], approvedBy: 'admin@test' });
      expect(await approvals.result()).toEqual([{ fixId, status: 'verified', failure: null }]);
      expect(await countsOf(kept)).toMatchObject({ messages: 3 });
      expect(await imagesOf([merged])).toEqual({});
    } finally {
      await asOwner([sql.unsafe`DELETE FROM leads WHERE id IN (${kept}, ${merged})`]);
    }
  }, 90_000);
});
