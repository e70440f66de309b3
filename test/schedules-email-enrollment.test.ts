// A schedule's `email_enrollment` action through the platform worker as a process, Temporal's dev
// server, Postgres and the stack's mailpit: a firing enrols exactly the segment's leads that can be
// mailed, each enrolment's workflow sends its first step, a re-run of the firing enrols and starts
// nothing twice, and a later firing does not enrol a lead again.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Client } from '@temporalio/client';
import { sql } from 'slonik';
import { z } from 'zod';
import { loadConfig } from '../core/config.ts';
import { createDatabasePools, type DatabasePools } from '../core/db/pools.ts';
import { createWithTenant, type WithTenant } from '../core/db/with-tenant.ts';
import { connectTemporalClient } from '../core/temporal/client.ts';
import { scheduledRunWorkflowId, type ScheduledRunInput, type ScheduledRunResult } from '../core/temporal/schedules.ts';
import { createSequence, enrolLead } from './support/email-sequences.ts';
import { createMailpit } from './support/mailpit.ts';
import { waitUntil } from './support/operator.ts';
import { processGroup } from './support/processes.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

const config = loadConfig();
const processes = processGroup();
const mailpit = createMailpit(config);
let pools: DatabasePools;
let withTenant: WithTenant;
let tenantA: TenantGraph;
let tenantB: TenantGraph;
let client: Client;

beforeAll(async () => {
  pools = await createDatabasePools(config.database);
  withTenant = createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 });
  [tenantA, tenantB] = [await seedTenant(withTenant), await seedTenant(withTenant)];
  client = await connectTemporalClient(config.temporal);
  await processes.start(['worker/main.ts'], { readyText: 'worker started' });
}, 60_000);
afterAll(async () => {
  await processes.stopAll();
  await client.connection.close();
  await pools.end();
});

const id = z.object({ id: z.uuid() });

/** A lead of the tenant's bot in stage 0 or 1, with this score and address (or none); a score of 70 or more qualifies it, which moves it to stage 1. */
const addLead = (tenant: TenantGraph, spec: { stage: 0 | 1; score: number; email: string | null }) => withTenant(tenant.tenantId, (tx) => {
  const waId = `55319${Math.floor(Math.random() * 1e8).toString().padStart(8, '0')}`;
  return tx.oneFirst(sql.type(id)`
    INSERT INTO leads (tenant_id, bot_id, wa_id, phone_e164, name, email, pipeline_id, stage_id, score)
    VALUES (${tenant.tenantId}, ${tenant.botId}, ${waId}, ${`+${waId}`}, 'Lia', ${spec.email}, ${tenant.pipelineId}, ${tenant.stageIds[spec.stage]}, ${spec.score})
    RETURNING id`);
});

const insertSchedule = (tenant: TenantGraph, action: Record<string, unknown>) => withTenant(tenant.tenantId, (tx) => tx.oneFirst(sql.type(id)`
  INSERT INTO schedules (tenant_id, bot_id, name, cron, action) VALUES (${tenant.tenantId}, ${tenant.botId}, 'Nurture', '0 9 * * 1', ${sql.jsonb(action)}) RETURNING id`));

const runFiring = (input: ScheduledRunInput, workflowId: string) =>
  client.workflow.execute('scheduledTenantRun', { workflowId, taskQueue: config.temporal.taskQueue, args: [input] }) as Promise<ScheduledRunResult>;

const enrolmentsOf = (tenant: TenantGraph, sequenceId: string) => withTenant(tenant.tenantId, (tx) => tx.any(sql.type(z.object({
  leadId: z.uuid(), address: z.string(), source: z.string(), firingId: z.string().nullable(),
}))`SELECT lead_id AS "leadId", address, source, schedule_firing_id AS "firingId" FROM email_enrollments
     WHERE tenant_id = ${tenant.tenantId} AND sequence_id = ${sequenceId} ORDER BY lead_id`));

describe('a schedule\'s e-mail enrolment', () => {
  it('enrols exactly the segment\'s mailable leads, starts each enrolment, and enrols nobody twice', async () => {
    const sequenceId = await createSequence(withTenant, tenantA.tenantId, [
      { delaySeconds: 0, subject: 'Oi {{lead.name}}', text: 'Oi {{lead.name}}', html: '<p>Oi {{lead.name}}</p>' },
      { delaySeconds: 86_400, subject: 'De novo', text: 'De novo', html: '<p>De novo</p>' },
    ]);
    const tag = randomUUID().slice(0, 8);
    const first = `first-${tag}@example.com`;
    const second = `second-${tag}@example.com`;
    const matching = [await addLead(tenantA, { stage: 0, score: 60, email: first }), await addLead(tenantA, { stage: 0, score: 65, email: second })];
    const otherStage = await addLead(tenantA, { stage: 1, score: 90, email: `stage-${tag}@example.com` });
    const lowScore = await addLead(tenantA, { stage: 0, score: 10, email: `low-${tag}@example.com` });
    const noAddress = await addLead(tenantA, { stage: 0, score: 60, email: null });
    const suppressed = `suppressed-${tag}@example.com`;
    const suppressedLead = await addLead(tenantA, { stage: 0, score: 60, email: suppressed });
    await withTenant(tenantA.tenantId, (tx) => tx.query(sql.unsafe`
      INSERT INTO email_suppressions (tenant_id, address, reason, detail) VALUES (${tenantA.tenantId}, ${suppressed}, 'unsubscribed', 'test')`));
    // Enrolled before (by the API), finished: a schedule does not restart the sequence for it.
    const enrolledBefore = await addLead(tenantA, { stage: 0, score: 60, email: `before-${tag}@example.com` });
    const earlier = await enrolLead(withTenant, tenantA.tenantId, { sequenceId, leadId: enrolledBefore, address: `before-${tag}@example.com` });
    await withTenant(tenantA.tenantId, (tx) => tx.query(sql.unsafe`
      UPDATE email_enrollments SET status = 'completed', finished_at = now() WHERE tenant_id = ${tenantA.tenantId} AND id = ${earlier}`));
    // Tenant B's lead fits the segment too, but is another tenant's.
    const otherTenant = await addLead(tenantB, { stage: 0, score: 60, email: `tenant-b-${tag}@example.com` });

    const scheduleId = await insertSchedule(tenantA, { type: 'email_enrollment', segment: { stageIds: [tenantA.stageIds[0]], minScore: 50 }, sequenceId });
    const input = { tenantId: tenantA.tenantId, scheduleId, botId: tenantA.botId };
    const firingId = `${scheduledRunWorkflowId(tenantA.tenantId, scheduleId)}-${new Date().toISOString()}`;
    expect(await runFiring(input, firingId)).toEqual({ fired: true, emailEnrollment: { enrolled: 2, started: 2, truncated: false, skippedReason: null } });

    const enrolments = await enrolmentsOf(tenantA, sequenceId);
    expect(enrolments.filter((row) => row.source === 'schedule')).toEqual(
      matching.map((leadId, n) => ({ leadId, address: [first, second][n], source: 'schedule', firingId })).sort((a, b) => a.leadId.localeCompare(b.leadId)));
    for (const leadId of [otherStage, lowScore, noAddress, suppressedLead]) expect(enrolments.map((row) => row.leadId)).not.toContain(leadId);
    expect(await enrolmentsOf(tenantB, sequenceId)).toEqual([]);
    expect(await withTenant(tenantB.tenantId, (tx) => tx.exists(sql.unsafe`SELECT 1 FROM email_enrollments WHERE lead_id = ${otherTenant}`))).toBe(false);
    // Each enrolment is its own workflow: the first step reaches both addresses.
    for (const address of [first, second]) {
      const [mail] = await waitUntil(`the first step to ${address}`, async () => { const found = await mailpit.messagesTo(address); return found.length > 0 && found; });
      expect(mail!.Subject).toBe('Oi Lia');
    }
    expect(await withTenant(tenantA.tenantId, (tx) => tx.oneFirst(sql.type(z.object({ details: z.string() }))`
      SELECT details::text AS details FROM audit_logs WHERE action = 'schedule.email_enrollment' AND details->>'firingId' = ${firingId}`)))
      .toMatch(/"enrolled": 2/);

    // The same firing again (a retry, a replay): the rows it wrote, no new enrolment, no second start.
    expect(await runFiring(input, firingId)).toEqual({ fired: true, emailEnrollment: { enrolled: 2, started: 0, truncated: false, skippedReason: null } });
    // A later firing: those leads were enrolled once, so nobody is enrolled again.
    expect(await runFiring(input, `${firingId}-next`)).toEqual({ fired: true, emailEnrollment: { enrolled: 0, started: 0, truncated: false, skippedReason: null } });
    expect(await enrolmentsOf(tenantA, sequenceId)).toHaveLength(3);
    expect(await mailpit.messagesTo(first)).toHaveLength(1);
  }, 90_000);

  it('enrols nobody when the sequence is inactive or deleted, and says why', async () => {
    const sequenceId = await createSequence(withTenant, tenantA.tenantId, [{ delaySeconds: 0, subject: 'Oi', text: 'Oi', html: '<p>Oi</p>' }]);
    await addLead(tenantA, { stage: 0, score: 90, email: `inactive-${randomUUID()}@example.com` });
    await withTenant(tenantA.tenantId, (tx) => tx.query(sql.unsafe`UPDATE email_sequences SET active = false WHERE tenant_id = ${tenantA.tenantId} AND id = ${sequenceId}`));
    const inactive = await insertSchedule(tenantA, { type: 'email_enrollment', segment: {}, sequenceId });
    const input = { tenantId: tenantA.tenantId, scheduleId: inactive, botId: tenantA.botId };
    expect(await runFiring(input, `${scheduledRunWorkflowId(tenantA.tenantId, inactive)}-${Date.now()}`))
      .toEqual({ fired: true, emailEnrollment: { enrolled: 0, started: 0, truncated: false, skippedReason: `sequence ${sequenceId} is inactive` } });
    const gone = randomUUID();
    const deleted = await insertSchedule(tenantA, { type: 'email_enrollment', segment: {}, sequenceId: gone });
    expect(await runFiring({ ...input, scheduleId: deleted }, `${scheduledRunWorkflowId(tenantA.tenantId, deleted)}-${Date.now()}`))
      .toEqual({ fired: true, emailEnrollment: { enrolled: 0, started: 0, truncated: false, skippedReason: `sequence ${gone} was deleted` } });
    expect(await enrolmentsOf(tenantA, sequenceId)).toEqual([]);
  }, 60_000);
});
