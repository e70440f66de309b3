// The email-sequence API on the real Temporal dev server, with the platform worker as a process and
// the stack's mailpit: sequences CRUD with template checks, enrolment (from the API and on
// qualification through the lead conversation), pause, resume and cancel, audit rows, and another
// tenant's ids answered 404.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Client } from '@temporalio/client';
import { pino } from 'pino';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { createLeadActivities } from '../activities/lead-conversation/ingest.ts';
import { createApp } from '../api/app.ts';
import { issueToken } from '../api/token-store.ts';
import { loadConfig } from '../core/config.ts';
import { createDatabasePools, createTokenAdminPool, type DatabasePools } from '../core/db/pools.ts';
import { createWithTenant, type WithTenant } from '../core/db/with-tenant.ts';
import { createObjectStoreClient } from '../core/object-store.ts';
import { connectTemporalClient } from '../core/temporal/client.ts';
import { emailSequenceWorkflowId } from '../core/temporal/email-sequences.ts';
import { INBOUND_SIGNAL, LEAD_CONVERSATION_WORKFLOW, leadWorkflowId, type InboundMessage } from '../core/temporal/lead-conversation.ts';
import type * as workflows from '../workflows/index.ts';
import { ensureDemoEmailSequence } from '../stack/demo-email-sequence.ts';
import { DEMO_BOT_ID, DEMO_MESSAGE, DEMO_TENANT_ID, ensureDemoTenant } from '../stack/demo-tenant.ts';
import { createLead } from './support/email-sequences.ts';
import { saveHistories } from './support/histories.ts';
import { createMailpit } from './support/mailpit.ts';
import { waitUntil } from './support/operator.ts';
import { processGroup } from './support/processes.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

const config = loadConfig();
const processes = processGroup();
const mailpit = createMailpit(config);
const s3 = createObjectStoreClient(config.s3);
let pools: DatabasePools;
let tokenPool: DatabasePool;
let withTenant: WithTenant;
let tenantA: TenantGraph;
let tenantB: TenantGraph;
let client: Client;
let api: ReturnType<typeof createApp>;
let base: string;
let tokenA: string;
let tokenB: string;

beforeAll(async () => {
  pools = await createDatabasePools(config.database);
  tokenPool = await createTokenAdminPool(config.database);
  withTenant = createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 });
  [tenantA, tenantB] = [await seedTenant(withTenant), await seedTenant(withTenant)];
  client = await connectTemporalClient(config.temporal);
  await processes.start(['worker/main.ts'], { readyText: 'worker started', env: { LOG_LEVEL: 'info' } });
  api = createApp({
    config, pools, tokenPool, withTenant, logger: pino({ level: 'silent' }), s3, temporalHealthy: async () => true, temporal: async () => client,
  });
  const server = await api.start(0, '127.0.0.1');
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  tokenA = (await issueToken(tokenPool, { tenantId: tenantA.tenantId, name: 'test', expiresAt: null, actor: 'test' }))!.token;
  tokenB = (await issueToken(tokenPool, { tenantId: tenantB.tenantId, name: 'test', expiresAt: null, actor: 'test' }))!.token;
}, 60_000);
afterAll(async () => {
  await api.stop();
  await processes.stopAll();
  await client.connection.close();
  s3.destroy();
  await Promise.all([pools.end(), tokenPool.end()]);
});

const call = async (method: string, path: string, token: string, body?: unknown) => {
  const response = await fetch(`${base}/api/v1${path}`, {
    method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, type: response.headers.get('content-type'), json: await response.json() as Record<string, unknown> };
};
const sequencesOf = (tenant: TenantGraph) => `/tenants/${tenant.tenantId}/email-sequences`;
const enrollmentsOf = (tenant: TenantGraph) => `/tenants/${tenant.tenantId}/email-enrollments`;
const steps = (delays: readonly number[]) => delays.map((delaySeconds, n) => ({
  delaySeconds, subject: `Step ${n + 1} for {{lead.name}}`, text: 'Hi {{lead.name}}, from {{tenant.name}}', html: '<p>Hi {{lead.name}}</p>',
}));
const createSequence = async (tenant: TenantGraph, token: string, delays: readonly number[]) => {
  const created = await call('POST', sequencesOf(tenant), token, { name: `Welcome ${randomUUID()}`, steps: steps(delays) });
  expect(created.status).toBe(201);
  return created.json.id as string;
};
const auditActions = (tenant: TenantGraph, key: string, id: string) => withTenant(tenant.tenantId, (tx) => tx.anyFirst(sql.type(z.object({ action: z.string() }))`
  SELECT action FROM audit_logs WHERE tenant_id = ${tenant.tenantId} AND details ->> ${key} = ${id} ORDER BY created_at, action`));
const workflowResult = (tenant: TenantGraph, enrollmentId: string) => client.workflow.getHandle(emailSequenceWorkflowId(tenant.tenantId, enrollmentId)).result();

describe('email sequences API', () => {
  it('creates, reads, updates and deletes a sequence with its steps, audited', async () => {
    const created = await call('POST', sequencesOf(tenantA), tokenA, {
      name: 'Onboarding', stopStageId: tenantA.stageIds[1], steps: steps([0, 86_400]),
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ name: 'Onboarding', active: true, stopStageId: tenantA.stageIds[1] });
    expect((created.json.steps as unknown[]).map((step) => (step as { position: number }).position)).toEqual([0, 1]);
    const sequenceId = created.json.id as string;

    const patched = await call('PATCH', `${sequencesOf(tenantA)}/${sequenceId}`, tokenA, { steps: steps([60]), stopStageId: null });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ stopStageId: null, steps: [{ position: 0, delaySeconds: 60 }] });
    expect((await call('GET', sequencesOf(tenantA), tokenA)).json.items).toEqual(expect.arrayContaining([expect.objectContaining({ id: sequenceId })]));
    expect((await call('POST', sequencesOf(tenantA), tokenA, { name: 'Onboarding', steps: steps([0]) })).status).toBe(409);

    expect((await call('DELETE', `${sequencesOf(tenantA)}/${sequenceId}`, tokenA)).json).toEqual({ sequenceId, deleted: true, stoppedEnrollments: 0 });
    expect((await call('GET', `${sequencesOf(tenantA)}/${sequenceId}`, tokenA)).status).toBe(404);
    expect(await auditActions(tenantA, 'sequenceId', sequenceId)).toEqual(['email_sequence.created', 'email_sequence.updated', 'email_sequence.deleted']);
  });

  it('refuses unknown template variables with a 400 problem document naming them, and other bad input', async () => {
    const refused = await call('POST', sequencesOf(tenantA), tokenA, {
      name: 'Leaky', steps: [{ delaySeconds: 0, subject: 'Hi {{lead.password}}', text: '{{ tenant.secret }} {{lead.name}}', html: '{{{lead.name}}}' }],
    });
    expect(refused.status).toBe(400);
    expect(refused.type).toContain('application/problem+json');
    expect(refused.json.detail).toContain('unknown template variables: lead.password');
    expect(refused.json.detail).toContain('unknown template variables: tenant.secret');
    expect(refused.json.errors).toEqual(expect.arrayContaining([
      { path: 'body.steps.0.subject', message: expect.stringContaining('lead.password') },
      { path: 'body.steps.0.text', message: expect.stringContaining('tenant.secret') },
      { path: 'body.steps.0.html', message: expect.stringContaining('only {{variable}} tags') },
    ]));
    for (const body of [
      { name: 'No steps', steps: [] },
      { name: 'Bad delay', steps: [{ ...steps([0])[0], delaySeconds: -1 }] },
      { name: 'Extra', steps: steps([0]), owner: 'me' },
      { name: 'Bad stage', steps: steps([0]), stopStageId: 'not-a-uuid' },
    ]) {
      expect((await call('POST', sequencesOf(tenantA), tokenA, body)).status).toBe(400);
    }
    expect((await call('POST', sequencesOf(tenantA), tokenA, { name: 'Foreign stage', steps: steps([0]), stopStageId: tenantB.stageIds[0] })).status).toBe(404);
  });

  it('answers 404 for another tenant\'s sequences, enrolments and leads', async () => {
    const sequenceB = await createSequence(tenantB, tokenB, [0]);
    expect((await call('GET', `${sequencesOf(tenantB)}/${sequenceB}`, tokenA)).status).toBe(404);
    expect((await call('GET', `${sequencesOf(tenantA)}/${sequenceB}`, tokenA)).status).toBe(404);
    expect((await call('PATCH', `${sequencesOf(tenantA)}/${sequenceB}`, tokenA, { active: false })).status).toBe(404);
    expect((await call('DELETE', `${sequencesOf(tenantA)}/${sequenceB}`, tokenA)).status).toBe(404);
    expect((await call('POST', enrollmentsOf(tenantA), tokenA, { sequenceId: sequenceB, leadId: tenantA.leadId })).status).toBe(404);
    const sequenceA = await createSequence(tenantA, tokenA, [86_400]);
    expect((await call('POST', enrollmentsOf(tenantA), tokenA, { sequenceId: sequenceA, leadId: tenantB.leadId })).status).toBe(404);
    expect((await call('PUT', `/tenants/${tenantA.tenantId}/bots/${tenantA.botId}/email-sequence`, tokenA, { sequenceId: sequenceB })).status).toBe(404);
    const enrolledB = await call('POST', enrollmentsOf(tenantB), tokenB, { sequenceId: sequenceB, leadId: tenantB.leadId });
    expect(enrolledB.status).toBe(201);
    const enrollmentB = enrolledB.json.id as string;
    expect((await call('GET', `${enrollmentsOf(tenantA)}/${enrollmentB}`, tokenA)).status).toBe(404);
    expect((await call('POST', `${enrollmentsOf(tenantA)}/${enrollmentB}/cancel`, tokenA)).status).toBe(404);
    expect((await call('GET', `${enrollmentsOf(tenantA)}?sequenceId=${sequenceB}`, tokenA)).json.items).toEqual([]);
    expect(await workflowResult(tenantB, enrollmentB)).toEqual({ status: 'completed' });
  });

  it('enrols a lead: the first step reaches mailpit; a second enrolment, no address or a suppressed one are refused', async () => {
    const address = `api-${randomUUID()}@example.com`;
    const leadId = await createLead(withTenant, tenantA, { email: address, name: 'Bia' });
    const sequenceId = await createSequence(tenantA, tokenA, [0, 86_400]);
    const enrolled = await call('POST', enrollmentsOf(tenantA), tokenA, { sequenceId, leadId });
    expect(enrolled.status).toBe(201);
    expect(enrolled.json).toMatchObject({ sequenceId, leadId, address, status: 'active', source: 'api' });
    const enrollmentId = enrolled.json.id as string;
    const [mail] = await waitUntil('the first step in mailpit', async () => { const found = await mailpit.messagesTo(address); return found.length > 0 && found; });
    expect(mail!.Subject).toBe('Step 1 for Bia');
    const read = await waitUntil('the step recorded', async () => {
      const found = await call('GET', `${enrollmentsOf(tenantA)}/${enrollmentId}`, tokenA);
      return found.json.nextStep === 1 && found;
    });
    expect(read.json.deliveries).toEqual([{ step: 0, messageId: `<${enrollmentId}.0@botinteligente.local>`, recipient: address, sentAt: expect.any(String) }]);

    const again = await call('POST', enrollmentsOf(tenantA), tokenA, { sequenceId, leadId });
    expect(again).toMatchObject({ status: 409, json: { title: 'Already enrolled' } });
    const noAddress = await withTenant(tenantA.tenantId, (tx) => tx.oneFirst(sql.type(z.object({ id: z.uuid() }))`
      INSERT INTO leads (tenant_id, bot_id, wa_id) VALUES (${tenantA.tenantId}, ${tenantA.botId}, ${`55319${Date.now() % 1e8}`}) RETURNING id`));
    expect((await call('POST', enrollmentsOf(tenantA), tokenA, { sequenceId, leadId: noAddress })).status).toBe(422);
    const bounced = await createLead(withTenant, tenantA, { email: 'bounced@example.com' });
    expect(await call('POST', enrollmentsOf(tenantA), tokenA, { sequenceId, leadId: bounced })).toMatchObject({ status: 409, json: { title: 'Address suppressed' } });
    expect((await call('POST', enrollmentsOf(tenantA), tokenA, { sequenceId, leadId: 'x' })).status).toBe(400);

    const listed = await call('GET', `${enrollmentsOf(tenantA)}?sequenceId=${sequenceId}&status=active`, tokenA);
    expect((listed.json.items as { id: string }[]).map((item) => item.id)).toEqual([enrollmentId]);
    expect((await call('GET', `${enrollmentsOf(tenantA)}?status=nope`, tokenA)).status).toBe(400);
    expect(await auditActions(tenantA, 'enrollmentId', enrollmentId)).toEqual(['email_enrollment.created']);
    await call('POST', `${enrollmentsOf(tenantA)}/${enrollmentId}/cancel`, tokenA);
    expect(await workflowResult(tenantA, enrollmentId)).toEqual({ status: 'cancelled' });
    // A step sent, a timer, a cancel signal: replayed by test/replay.test.ts.
    await saveHistories(config, client, emailSequenceWorkflowId(tenantA.tenantId, enrollmentId), 'email-sequence-sent-cancelled');
  });

  it('pauses, resumes and cancels an enrolment through the API; a wrong transition is a 409', async () => {
    const leadId = await createLead(withTenant, tenantA, { email: `ctl-${randomUUID()}@example.com` });
    const sequenceId = await createSequence(tenantA, tokenA, [86_400, 86_400]);
    const enrollmentId = (await call('POST', enrollmentsOf(tenantA), tokenA, { sequenceId, leadId })).json.id as string;
    const path = `${enrollmentsOf(tenantA)}/${enrollmentId}`;
    expect((await call('POST', `${path}/resume`, tokenA)).status).toBe(409);
    expect((await call('POST', `${path}/pause`, tokenA)).json).toMatchObject({ status: 'paused' });
    expect((await call('POST', `${path}/pause`, tokenA)).status).toBe(409);
    expect((await call('POST', `${path}/resume`, tokenA)).json).toMatchObject({ status: 'active' });
    expect((await call('POST', `${path}/cancel`, tokenA)).json).toMatchObject({ status: 'cancelled', finishedAt: expect.any(String) });
    expect(await workflowResult(tenantA, enrollmentId)).toEqual({ status: 'cancelled' });
    expect((await call('POST', `${path}/cancel`, tokenA)).status).toBe(409);
    expect(await auditActions(tenantA, 'enrollmentId', enrollmentId))
      .toEqual(['email_enrollment.created', 'email_enrollment.pause', 'email_enrollment.resume', 'email_enrollment.cancel']);
  });

  it('a one-click unsubscribe from the first mail stops the address\'s running enrolment before step 2 and ends its workflow', async () => {
    const address = `unsub-${randomUUID()}@example.com`;
    const leadId = await createLead(withTenant, tenantA, { email: address });
    const sequenceId = await createSequence(tenantA, tokenA, [0, 86_400]);
    const enrollmentId = (await call('POST', enrollmentsOf(tenantA), tokenA, { sequenceId, leadId })).json.id as string;
    const [mail] = await waitUntil('the first step in mailpit', async () => { const found = await mailpit.messagesTo(address); return found.length > 0 && found; });
    // The worker signs links for PUBLIC_API_URL; the token is what this in-process API checks.
    const link = /^<(.+)>$/.exec((await mailpit.headersOf(mail!.ID))['List-Unsubscribe']![0]!)![1]!;
    const token = link.slice(link.lastIndexOf('/') + 1);
    const unsubscribed = await fetch(`${base}/api/v1/unsubscribe/${token}`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click',
    });
    expect(unsubscribed.status).toBe(200);
    expect(await workflowResult(tenantA, enrollmentId)).toEqual({ status: 'stopped', reason: 'unsubscribed' });
    expect((await call('GET', `${enrollmentsOf(tenantA)}/${enrollmentId}`, tokenA)).json).toMatchObject({ status: 'stopped', stopReason: 'unsubscribed' });
    expect(await mailpit.messagesTo(address)).toHaveLength(1);
  });

  it('deactivating a sequence stops its running enrolments and ends their workflows', async () => {
    const leadId = await createLead(withTenant, tenantA, { email: `off-${randomUUID()}@example.com` });
    const sequenceId = await createSequence(tenantA, tokenA, [86_400]);
    const enrollmentId = (await call('POST', enrollmentsOf(tenantA), tokenA, { sequenceId, leadId })).json.id as string;
    expect((await call('PATCH', `${sequencesOf(tenantA)}/${sequenceId}`, tokenA, { active: false })).status).toBe(200);
    expect(await workflowResult(tenantA, enrollmentId)).toEqual({ status: 'stopped', reason: 'sequence-inactive' });
    expect((await call('POST', enrollmentsOf(tenantA), tokenA, { sequenceId, leadId })).json.title).toBe('Sequence inactive');
  });

  it('enrols a lead that qualifies on a bot naming a sequence, through the lead conversation; a redelivered message enrols no second time', async () => {
    const sequenceId = await createSequence(tenantA, tokenA, [0, 86_400]);
    expect((await call('PUT', `/tenants/${tenantA.tenantId}/bots/${tenantA.botId}/email-sequence`, tokenA, { sequenceId })).json)
      .toEqual({ botId: tenantA.botId, sequenceId });
    // Threshold 0: the lead qualifies with its first message, which gives its address.
    await withTenant(tenantA.tenantId, (tx) => tx.query(sql.unsafe`UPDATE bots SET qualification_threshold = 0 WHERE tenant_id = ${tenantA.tenantId} AND id = ${tenantA.botId}`));
    const waId = `55419${Math.floor(Math.random() * 1e8)}`;
    const address = `qualified-${waId}@example.com`;
    const workflowId = leadWorkflowId(tenantA.tenantId, tenantA.botId, waId);
    const message: InboundMessage = {
      tenantId: tenantA.tenantId, botId: tenantA.botId, waId, waMessageId: `q-${waId}`, text: `hi, my email is ${address}`, receivedAt: new Date().toISOString(),
    };
    await client.workflow.signalWithStart<typeof workflows.leadConversation, [InboundMessage]>(LEAD_CONVERSATION_WORKFLOW, {
      workflowId, taskQueue: config.temporal.taskQueue, args: [{ tenantId: tenantA.tenantId, botId: tenantA.botId, waId, idleTimeoutSeconds: 30 }],
      signal: INBOUND_SIGNAL, signalArgs: [message],
    });
    try {
      const [mail] = await waitUntil('the first step in mailpit', async () => { const found = await mailpit.messagesTo(address); return found.length > 0 && found; });
      // The lead gave no name: the variable renders empty (mailpit trims the subject).
      expect(mail!.Subject).toBe('Step 1 for');
      const listed = await call('GET', `${enrollmentsOf(tenantA)}?sequenceId=${sequenceId}`, tokenA);
      expect(listed.json.items).toEqual([expect.objectContaining({ address, source: 'qualification', status: 'active' })]);
      // The same WhatsApp message again (a retried ingest): it answers the enrolment it wrote, and writes none.
      const ingest = createLeadActivities({ withTenant, chatComposerConfigured: false, scoring: { score: async () => ({ scoreDelta: 0, tags: [], timedOut: false }), close: async () => {} } });
      const again = await ingest.ingestInbound(message);
      expect(again).toMatchObject({ duplicate: true, emailEnrollmentId: (listed.json.items as { id: string }[])[0]!.id });
      expect((await call('GET', `${enrollmentsOf(tenantA)}?sequenceId=${sequenceId}`, tokenA)).json.items).toHaveLength(1);
    } finally {
      // The tenant has no bot pod to send the conversation's reply: end the lead's workflow here.
      await client.workflow.getHandle(workflowId).terminate('test done');
      await withTenant(tenantA.tenantId, (tx) => tx.query(sql.unsafe`UPDATE bots SET qualification_threshold = 70, email_sequence_id = NULL WHERE tenant_id = ${tenantA.tenantId} AND id = ${tenantA.botId}`));
    }
  }, 60_000);

  it('mails the demo lead the demo sequence\'s first step after the demo message (what npm start suggests)', async () => {
    await ensureDemoTenant(withTenant);
    expect(await ensureDemoEmailSequence(withTenant)).toBe(true);
    expect(await ensureDemoEmailSequence(withTenant)).toBe(false);
    const waId = '5511987654321';
    const workflowId = leadWorkflowId(DEMO_TENANT_ID, DEMO_BOT_ID, waId);
    await client.workflow.signalWithStart<typeof workflows.leadConversation, [InboundMessage]>(LEAD_CONVERSATION_WORKFLOW, {
      workflowId, taskQueue: config.temporal.taskQueue, args: [{ tenantId: DEMO_TENANT_ID, botId: DEMO_BOT_ID, waId, idleTimeoutSeconds: 30 }],
      signal: INBOUND_SIGNAL,
      signalArgs: [{ tenantId: DEMO_TENANT_ID, botId: DEMO_BOT_ID, waId, waMessageId: 'DEMO-1', text: DEMO_MESSAGE, receivedAt: new Date().toISOString() }],
    });
    try {
      const enrollmentId = await waitUntil('the demo lead enrolled', () => withTenant(DEMO_TENANT_ID, (tx) => tx.maybeOneFirst(sql.type(z.object({ id: z.uuid() }))`
        SELECT id FROM email_enrollments WHERE tenant_id = ${DEMO_TENANT_ID} AND address = 'ana@example.com' AND source = 'qualification'`)));
      const mail = await waitUntil('the first mail in mailpit', async () =>
        (await mailpit.messagesTo('ana@example.com')).find((found) => found.MessageID === `${enrollmentId}.0@botinteligente.local`));
      expect(mail.Subject).toBe('Demo: obrigado pelo interesse, Ana');
    } finally {
      await client.workflow.getHandle(workflowId).terminate('test done');
    }
  }, 60_000);
});
