// The enrolment workflow `email-sequence/<tenantId>/<enrollmentId>` on Temporal's time-skipping test
// server, with the real activities against the stack's Postgres and mailpit: days of timers pass in
// seconds, and every mail is a real SMTP delivery.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { WorkflowFailedError } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { sql } from 'slonik';
import { z } from 'zod';
import { createEmailSequenceFeatureActivities } from '../activities/email-sequences/index.ts';
import { createLeadActivities } from '../activities/lead-conversation/ingest.ts';
import { createScoringPool, type ScoringPool } from '../activities/scoring/pool.ts';
import { loadConfig } from '../core/config.ts';
import { loadKeyring } from '../core/crypto/keyring.ts';
import { createDatabasePools, type DatabasePools } from '../core/db/pools.ts';
import { createWithTenant, type WithTenant } from '../core/db/with-tenant.ts';
import { EMAIL_SEQUENCE_SIGNALS, EMAIL_SEQUENCE_WORKFLOW, emailSequenceWorkflowId } from '../core/temporal/email-sequences.ts';
import type { emailSequence } from '../workflows/email-sequences.ts';
import { createLead, createSequence, enrolLead, type StepFixture } from './support/email-sequences.ts';
import { createMailpit } from './support/mailpit.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

const config = loadConfig();
const mailpit = createMailpit(config);
const TASK_QUEUE = 'email-sequences-test';
const DAY_MS = 86_400_000;
let pools: DatabasePools;
let withTenant: WithTenant;
let tenant: TenantGraph;
let testEnv: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
let scoring: ScoringPool;

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  pools = await createDatabasePools(config.database);
  withTenant = createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 });
  tenant = await seedTenant(withTenant);
  scoring = createScoringPool(config.conversation.scoring);
  testEnv = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: join(config.stack.toolsDir, 'bin', 'temporal-test-server') } },
  });
  worker = await Worker.create({
    connection: testEnv.nativeConnection, taskQueue: TASK_QUEUE,
    workflowsPath: fileURLToPath(new URL('../workflows/index.ts', import.meta.url)),
    activities: createEmailSequenceFeatureActivities({ withTenant, email: config.email, keyring: () => loadKeyring(config.encryption), publicApiUrl: 'https://bots.example.com' }),
  });
  running = worker.run();
}, 120_000);
afterEach(async () => {
  await mailpit.calm();
});
afterAll(async () => {
  worker?.shutdown();
  await running;
  await testEnv?.teardown();
  await scoring?.close();
  await pools?.end();
});

const step = (delayDays: number, n: number): StepFixture => ({
  delaySeconds: delayDays * 86_400,
  subject: `Step ${n} for {{lead.name}}`,
  text: `Hello {{lead.name}} of {{lead.company}}, from {{tenant.name}} (step ${n})`,
  html: `<p>Hello {{lead.name}} (step ${n})</p>`,
});

/** A lead with a fresh address, enrolled in a new sequence of these steps, and its workflow started. */
const enrolAndStart = async (steps: readonly StepFixture[], options: { stopStageId?: string; name?: string } = {}) => {
  const address = `lead-${randomUUID()}@example.com`;
  const sequenceId = await createSequence(withTenant, tenant.tenantId, steps, options);
  const leadId = await createLead(withTenant, tenant, { email: address, name: options.name ?? 'Ana' });
  const enrollmentId = await enrolLead(withTenant, tenant.tenantId, { sequenceId, leadId, address });
  const workflowId = emailSequenceWorkflowId(tenant.tenantId, enrollmentId);
  const handle = await testEnv.client.workflow.start<typeof emailSequence>(EMAIL_SEQUENCE_WORKFLOW, {
    taskQueue: TASK_QUEUE, workflowId, args: [{ tenantId: tenant.tenantId, enrollmentId }],
  });
  return { address, sequenceId, leadId, enrollmentId, handle };
};

const enrollmentRow = (enrollmentId: string) => withTenant(tenant.tenantId, (tx) => tx.one(sql.type(z.object({
  status: z.string(), stop_reason: z.string().nullable(), next_step: z.number(),
}))`SELECT status, stop_reason, next_step FROM email_enrollments WHERE tenant_id = ${tenant.tenantId} AND id = ${enrollmentId}`));

/** Waits (in real time, the test server's clock standing still) until `count` steps went out. */
const stepsSent = async (enrollmentId: string, count: number) => {
  for (let i = 0; i < 200; i += 1) {
    if ((await enrollmentRow(enrollmentId)).next_step >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`enrolment ${enrollmentId} did not send ${count} steps`);
};

/** Sets the row's status the way the API does, then signals. */
const control = async (enrollmentId: string, status: 'paused' | 'active' | 'cancelled', signal: keyof typeof EMAIL_SEQUENCE_SIGNALS) => {
  await withTenant(tenant.tenantId, (tx) => tx.query(sql.unsafe`
    UPDATE email_enrollments SET status = ${status}, finished_at = ${status === 'cancelled' ? sql.unsafe`now()` : null}
    WHERE tenant_id = ${tenant.tenantId} AND id = ${enrollmentId}`));
  await testEnv.client.workflow.getHandle(emailSequenceWorkflowId(tenant.tenantId, enrollmentId)).signal(EMAIL_SEQUENCE_SIGNALS[signal]);
};

describe('email sequence workflow (time-skipping)', () => {
  it('mails a three-step sequence over 7 days: three messages, their headers, each at its time', async () => {
    const { address, enrollmentId, handle } = await enrolAndStart([step(0, 1), step(2, 2), step(5, 3)], { name: 'Ana <b>&' });
    expect(await handle.result()).toEqual({ status: 'completed' });
    expect(await enrollmentRow(enrollmentId)).toEqual({ status: 'completed', stop_reason: null, next_step: 3 });

    const received = (await mailpit.messagesTo(address)).sort((a, b) => a.Subject.localeCompare(b.Subject));
    expect(received.map((mail) => [mail.Subject, mail.MessageID])).toEqual([1, 2, 3].map((n) => [
      `Step ${n} for Ana <b>&`, `${enrollmentId}.${n - 1}@botinteligente.local`]));
    for (const mail of received) {
      const headers = await mailpit.headersOf(mail.ID);
      expect(headers['List-Unsubscribe']).toEqual([expect.stringMatching(/^<https:\/\/bots\.example\.com\/api\/v1\/unsubscribe\/[^>]+>$/)]);
      expect(headers['List-Unsubscribe-Post']).toEqual(['List-Unsubscribe=One-Click']);
      const full = await mailpit.message(mail.ID);
      expect(full.From.Address).toBe(config.email.from);
      expect(full.To.map((to) => to.Address)).toEqual([address]);
    }
    // The lead's fields, escaped in the HTML part only.
    const first = await mailpit.message(received[0]!.ID);
    expect(first.Text).toContain('Hello Ana <b>& of , from Tenant (step 1)');
    expect(first.HTML).toContain('Hello Ana &lt;b&gt;&amp; (step 1)');

    // The sends' times on the test server's (skipped) clock: day 0, day 2, day 7.
    const history = await handle.fetchHistory();
    const startedMs = Number(history.events![0]!.eventTime!.seconds) * 1000;
    const sendDays = history.events!
      .filter((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'sendEmailStep')
      .map((event) => (Number(event.eventTime!.seconds) * 1000 - startedMs) / DAY_MS);
    expect(sendDays.map((days) => Math.round(days * 100) / 100)).toEqual([0, 2, 7]);
  }, 60_000);

  it('stops when the lead replies on WhatsApp before step 2 (ingested through the lead-conversation path)', async () => {
    const { address, leadId, enrollmentId, handle } = await enrolAndStart([step(0, 1), step(1, 2), step(1, 3)]);
    await stepsSent(enrollmentId, 1);
    const waId = await withTenant(tenant.tenantId, (tx) => tx.oneFirst(sql.type(z.object({ wa_id: z.string() }))`
      SELECT wa_id FROM leads WHERE tenant_id = ${tenant.tenantId} AND id = ${leadId}`));
    const ingest = createLeadActivities({ withTenant, chatComposerConfigured: false, scoring });
    const ingested = await ingest.ingestInbound({
      tenantId: tenant.tenantId, botId: tenant.botId, waId, waMessageId: `reply-${randomUUID()}`, text: 'thanks, got it', receivedAt: new Date().toISOString(),
    });
    expect(ingested.leadId).toBe(leadId);

    expect(await handle.result()).toEqual({ status: 'stopped', reason: 'replied' });
    expect(await mailpit.messagesTo(address)).toHaveLength(1);
    expect(await enrollmentRow(enrollmentId)).toMatchObject({ status: 'stopped', stop_reason: 'replied', next_step: 1 });
  }, 60_000);

  it('stops when the lead reaches the stop stage', async () => {
    const { address, leadId, enrollmentId, handle } = await enrolAndStart([step(0, 1), step(1, 2)], { stopStageId: tenant.stageIds[1] });
    await stepsSent(enrollmentId, 1);
    await withTenant(tenant.tenantId, (tx) => tx.query(sql.unsafe`
      UPDATE leads SET stage_id = ${tenant.stageIds[1]} WHERE tenant_id = ${tenant.tenantId} AND id = ${leadId}`));
    expect(await handle.result()).toEqual({ status: 'stopped', reason: 'stage-reached' });
    expect(await mailpit.messagesTo(address)).toHaveLength(1);
  }, 60_000);

  it('holds sends while paused, continues on resume, and ends on cancel', async () => {
    const paused = await enrolAndStart([step(0, 1), step(1, 2), step(1, 3)]);
    await stepsSent(paused.enrollmentId, 1);
    await control(paused.enrollmentId, 'paused', 'pause');
    await testEnv.sleep(5 * DAY_MS);
    expect(await mailpit.messagesTo(paused.address)).toHaveLength(1);
    expect(await enrollmentRow(paused.enrollmentId)).toMatchObject({ status: 'paused', next_step: 1 });
    await control(paused.enrollmentId, 'active', 'resume');
    expect(await paused.handle.result()).toEqual({ status: 'completed' });
    expect(await mailpit.messagesTo(paused.address)).toHaveLength(3);

    const cancelled = await enrolAndStart([step(0, 1), step(1, 2)]);
    await stepsSent(cancelled.enrollmentId, 1);
    await control(cancelled.enrollmentId, 'cancelled', 'cancel');
    expect(await cancelled.handle.result()).toEqual({ status: 'cancelled' });
    expect(await mailpit.messagesTo(cancelled.address)).toHaveLength(1);
  }, 60_000);

  it('sends a step once when the SMTP server refuses it for a while (451), then accepts', async () => {
    await mailpit.refuse('Recipient', 451);
    const { address, enrollmentId, handle } = await enrolAndStart([step(0, 1)]);
    // Let a few attempts fail on the skipped clock.
    for (let i = 0; i < 100; i += 1) {
      const pending = (await handle.describe()).raw.pendingActivities ?? [];
      if ((pending[0]?.attempt ?? 0) >= 3) break;
      await testEnv.sleep(60_000);
    }
    expect((await handle.describe()).raw.pendingActivities?.[0]?.attempt).toBeGreaterThanOrEqual(3);
    expect(await mailpit.messagesTo(address)).toHaveLength(0);
    await mailpit.refuse('Recipient', null);
    expect(await handle.result()).toEqual({ status: 'completed' });
    expect(await mailpit.messagesTo(address)).toHaveLength(1);
    expect(await withTenant(tenant.tenantId, (tx) => tx.oneFirst(sql.type(z.object({ n: z.number() }))`
      SELECT count(*)::int AS n FROM email_deliveries WHERE tenant_id = ${tenant.tenantId} AND enrollment_id = ${enrollmentId}`))).toBe(1);
  }, 60_000);

  it('ends the enrolment as stopped/bounced when the server refuses the address for good (550), and suppresses it', async () => {
    await mailpit.refuse('Recipient', 550);
    const { address, enrollmentId, handle } = await enrolAndStart([step(0, 1), step(1, 2)]);
    expect(await handle.result()).toEqual({ status: 'stopped', reason: 'bounced' });
    expect(await enrollmentRow(enrollmentId)).toMatchObject({ status: 'stopped', stop_reason: 'bounced', next_step: 0 });
    expect(await withTenant(tenant.tenantId, (tx) => tx.exists(sql.unsafe`
      SELECT 1 FROM email_suppressions WHERE tenant_id = ${tenant.tenantId} AND address = ${address} AND reason = 'bounced'`))).toBe(true);
    await mailpit.refuse('Recipient', null);
    expect(await mailpit.messagesTo(address)).toHaveLength(0);
  }, 60_000);

  it('fails readably and ends the row as stopped/send-failed when the server refuses the sender for good (550 to MAIL FROM)', async () => {
    await mailpit.refuse('Sender', 550);
    const { address, enrollmentId, handle } = await enrolAndStart([step(0, 1), step(1, 2)]);
    const failure = await handle.result().then(() => null, (error: unknown) => error);
    await mailpit.refuse('Sender', null);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect((failure as WorkflowFailedError).cause).toMatchObject({ type: 'EmailStepNotSent', message: expect.stringMatching(/^step 0 of enrolment .* was not sent: .*SMTP refused the sender/) });
    expect(await enrollmentRow(enrollmentId)).toMatchObject({ status: 'stopped', stop_reason: 'send-failed', next_step: 0 });
    expect(await mailpit.messagesTo(address)).toHaveLength(0);
  }, 60_000);

  it('reads each step when it sends it: an edited step is sent as edited, a removed step ends the enrolment', async () => {
    const { address, sequenceId, enrollmentId, handle } = await enrolAndStart([step(0, 1), step(1, 2), step(1, 3)]);
    await stepsSent(enrollmentId, 1);
    await withTenant(tenant.tenantId, async (tx) => {
      await tx.query(sql.unsafe`UPDATE email_sequence_steps SET subject = 'Edited' WHERE tenant_id = ${tenant.tenantId} AND sequence_id = ${sequenceId} AND position = 1`);
      await tx.query(sql.unsafe`DELETE FROM email_sequence_steps WHERE tenant_id = ${tenant.tenantId} AND sequence_id = ${sequenceId} AND position = 2`);
    });
    expect(await handle.result()).toEqual({ status: 'completed' });
    expect((await mailpit.messagesTo(address)).map((mail) => mail.Subject).sort()).toEqual(['Edited', 'Step 1 for Ana']);
  }, 60_000);

  it('ends, without failing, when its lead is erased (the enrolment goes with the lead)', async () => {
    const { address, leadId, enrollmentId, handle } = await enrolAndStart([step(0, 1), step(1, 2)]);
    await stepsSent(enrollmentId, 1);
    await withTenant(tenant.tenantId, (tx) => tx.query(sql.unsafe`DELETE FROM leads WHERE tenant_id = ${tenant.tenantId} AND id = ${leadId}`));
    expect(await handle.result()).toEqual({ status: 'deleted' });
    expect(await mailpit.messagesTo(address)).toHaveLength(1);
  }, 60_000);
});
