// A schedule's WhatsApp follow-up through real processes: the platform worker, tenant A's bot pod on
// the simulator transport, Temporal's dev server, Postgres, and the API in-process. A firing sends
// its message to exactly the leads of its segment, paced by durable timers, once per lead however
// often the firing runs; a tenant without a running pod fails its firing readably.
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Client } from '@temporalio/client';
import { pino } from 'pino';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { createApp } from '../api/app.ts';
import { issueToken } from '../api/token-store.ts';
import { loadConfig } from '../core/config.ts';
import { createDatabasePools, createTokenAdminPool, type DatabasePools } from '../core/db/pools.ts';
import { createWithTenant, type WithTenant } from '../core/db/with-tenant.ts';
import { createObjectStoreClient } from '../core/object-store.ts';
import { renderFollowUpText } from '../core/schedules/follow-up-text.ts';
import { connectTemporalClient } from '../core/temporal/client.ts';
import { scheduledRunWorkflowId, tenantScheduleId, type ScheduledRunInput, type ScheduledRunResult } from '../core/temporal/schedules.ts';
import { startBotPod, type BotPodHandle } from './support/bot-pod.ts';
import { saveHistories } from './support/histories.ts';
import { waitUntil } from './support/operator.ts';
import { processGroup } from './support/processes.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

const config = loadConfig();
const processes = processGroup();
const s3 = createObjectStoreClient(config.s3);
/** A firing on a tenant without a running pod gives up after this long. */
const SEND_TIMEOUT_SECONDS = 6;
// The first action types send at the platform rate: fast here, so a broadcast to every lead is quick.
const startWorker = () => processes.start(['worker/main.ts'], {
  env: { SCHEDULE_FOLLOW_UP_SEND_TIMEOUT_SECONDS: String(SEND_TIMEOUT_SECONDS), SCHEDULE_FOLLOW_UP_RATE_PER_MINUTE: '600', SCHEDULE_FOLLOW_UP_MAX_RATE_PER_MINUTE: '600' },
});
let worker: ChildProcess;
let pools: DatabasePools;
let tokenPool: DatabasePool;
let withTenant: WithTenant;
let tenantA: TenantGraph;
let tenantB: TenantGraph;
let client: Client;
let pod: BotPodHandle;
let api: ReturnType<typeof createApp>;
let base: string;
let tokenA: string;

beforeAll(async () => {
  pools = await createDatabasePools(config.database);
  tokenPool = await createTokenAdminPool(config.database);
  withTenant = createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 });
  [tenantA, tenantB] = [await seedTenant(withTenant), await seedTenant(withTenant)];
  client = await connectTemporalClient(config.temporal);
  worker = await startWorker();
  pod = await startBotPod(processes, tenantA.tenantId);
  api = createApp({
    config, pools, tokenPool, withTenant, logger: pino({ level: 'silent' }), s3, temporalHealthy: async () => true, temporal: async () => client,
  });
  const server = await api.start(0, '127.0.0.1');
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  tokenA = (await issueToken(tokenPool, { tenantId: tenantA.tenantId, name: 'test', expiresAt: null, actor: 'test' }))!.token;
}, 90_000);
afterAll(async () => {
  await api.stop();
  await processes.stopAll();
  await client.connection.close();
  s3.destroy();
  await Promise.all([pools.end(), tokenPool.end()]);
});

const call = async (method: string, path: string, body?: unknown) => {
  const response = await fetch(`${base}/api/v1${path}`, {
    method, headers: { authorization: `Bearer ${tokenA}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() as Record<string, unknown> };
};
const schedulesOf = (tenant: TenantGraph) => `/tenants/${tenant.tenantId}/bots/${tenant.botId}/schedules`;

type LeadSpec = {
  name?: string | null; stage?: 0 | 1 | null; score?: number; idleDays?: number; phone?: boolean; lid?: string; tags?: string[];
  /** An outbound message this many days ago (the bot wrote last). */
  outboundDaysAgo?: number;
};
/** A lead of the tenant's bot; its WhatsApp id is its phone's digits, or its lid. */
const addLead = (tenant: TenantGraph, spec: LeadSpec) => withTenant(tenant.tenantId, async (tx) => {
  const digits = `55119${Math.floor(Math.random() * 1e8).toString().padStart(8, '0')}`;
  const stageId = spec.stage === undefined || spec.stage === null ? null : tenant.stageIds[spec.stage];
  const leadId = await tx.oneFirst(sql.type(z.object({ id: z.uuid() }))`
    INSERT INTO leads (tenant_id, bot_id, wa_id, phone_e164, lid, name, pipeline_id, stage_id, score, tags, last_message_at)
    VALUES (${tenant.tenantId}, ${tenant.botId}, ${spec.phone === false ? (spec.lid ?? digits) : digits}, ${spec.phone === false ? null : `+${digits}`},
            ${spec.lid ?? null}, ${spec.name ?? null}, ${stageId === null ? null : tenant.pipelineId}, ${stageId}, ${spec.score ?? 50},
            ${sql.array(spec.tags ?? [], 'text')}, now() - make_interval(days => ${spec.idleDays ?? 30}::int))
    RETURNING id`);
  if (spec.outboundDaysAgo !== undefined) {
    await tx.query(sql.unsafe`
      INSERT INTO lead_messages (tenant_id, bot_id, lead_id, direction, wa_message_id, body, created_at)
      VALUES (${tenant.tenantId}, ${tenant.botId}, ${leadId}, 'outbound', ${`OUT-${leadId}`}, 'earlier follow-up', now() - make_interval(days => ${spec.outboundDaysAgo}::int))`);
  }
  return { leadId, jid: spec.phone === false ? `${spec.lid}@lid` : `${digits}@s.whatsapp.net` };
}, { actor: 'test' });

/** A schedule row written directly (the API path is tested apart), with no Temporal Schedule. */
const insertSchedule = (tenant: TenantGraph, action: Record<string, unknown>, botId = tenant.botId) => withTenant(tenant.tenantId, (tx) => tx.oneFirst(sql.type(z.object({ id: z.uuid() }))`
  INSERT INTO schedules (tenant_id, bot_id, name, cron, action) VALUES (${tenant.tenantId}, ${botId}, 'Follow-up', '0 9 * * 1', ${sql.jsonb(action)}) RETURNING id`));

/** Runs a firing directly, under the workflow id a Schedule would give it. */
const runFiring = (input: ScheduledRunInput, workflowId = `${scheduledRunWorkflowId(input.tenantId, input.scheduleId)}-${new Date().toISOString()}`) =>
  client.workflow.execute('scheduledTenantRun', { workflowId, taskQueue: config.temporal.taskQueue, args: [input] }) as Promise<ScheduledRunResult>;

const followUpRows = (tenant: TenantGraph, firingId: string) => withTenant(tenant.tenantId, (tx) => tx.any(sql.type(z.object({
  leadId: z.uuid(), status: z.string(), waMessageId: z.string().nullable(), detail: z.string().nullable(),
}))`SELECT lead_id AS "leadId", status, wa_message_id AS "waMessageId", detail FROM schedule_follow_ups WHERE firing_id = ${firingId} ORDER BY lead_id`));

describe('a schedule\'s WhatsApp follow-up', () => {
  it('fires to exactly the leads of its segment, paced by timers, and a re-run of the firing sends nothing twice', async () => {
    const matching = [
      await addLead(tenantA, { name: 'Ana *Maria*', stage: 0, score: 40, idleDays: 30 }),
      await addLead(tenantA, { name: null, stage: 1, score: 90, idleDays: 8, phone: false, lid: '120363000000001' }),
      await addLead(tenantA, { name: 'Caio', stage: 0, score: 20, idleDays: 400, outboundDaysAgo: 10 }),
    ];
    const others = [
      await addLead(tenantA, { stage: null, score: 50 }), // no stage
      await addLead(tenantA, { stage: 0, score: 19 }), // score below the range
      await addLead(tenantA, { stage: 1, score: 101 }), // score above it
      await addLead(tenantA, { stage: 0, idleDays: 6 }), // wrote 6 days ago
      await addLead(tenantA, { stage: 0, idleDays: 30, outboundDaysAgo: 2 }), // the bot wrote 2 days ago
      await addLead(tenantA, { stage: 0, tags: ['opt-out'] }), // opted out
    ];
    // Tenant B's leads fit the same segment (in B's own stages): they are B's bot's, never A's.
    const foreign = [await addLead(tenantB, { stage: 0 }), await addLead(tenantB, { stage: 1 })];

    const segment = { stageIds: tenantA.stageIds, minScore: 20, maxScore: 100, idleDays: 7 };
    const created = await call('POST', schedulesOf(tenantA), {
      name: 'Win back', cron: '0 10 * * *', action: { type: 'whatsapp_follow_up', segment, message: 'Olá {name}, temos novidades!', ratePerMinute: 60 },
    });
    expect(created.status).toBe(201);
    const scheduleId = created.json.id as string;
    const schedule = client.schedule.getHandle(tenantScheduleId(tenantA.tenantId, scheduleId));
    await waitUntil('the Schedule created', () => schedule.describe().then(() => true), 30_000);
    await schedule.trigger();

    const audited = await waitUntil('the firing audited', () => withTenant(tenantA.tenantId, (tx) => tx.maybeOne(sql.type(z.object({
      details: z.object({ workflowId: z.string(), matched: z.number(), sent: z.number(), skipped: z.number(), failed: z.number(), sentNow: z.number() }).loose(),
    }))`SELECT details FROM audit_logs WHERE action = 'schedule.follow_up' AND details->>'scheduleId' = ${scheduleId}`)), 60_000);
    const firingId = audited.details.workflowId;
    expect(audited.details).toMatchObject({ matched: 3, sent: 3, skipped: 0, failed: 0, sentNow: 3, truncated: false, stoppedBecause: null });

    const sent = () => pod.sends(tenantA.botId).filter((send) => [...matching, ...others].some((lead) => lead.jid === send.jid));
    expect(sent().map((send) => send.jid).sort()).toEqual(matching.map((lead) => lead.jid).sort());
    expect(new Map(sent().map((send) => [send.jid, send.text]))).toEqual(new Map([
      [matching[0]!.jid, 'Olá Ana Maria, temos novidades!'], [matching[1]!.jid, 'Olá, temos novidades!'], [matching[2]!.jid, 'Olá Caio, temos novidades!'],
    ]));
    expect(pod.sends(tenantB.botId)).toEqual([]);
    expect(foreign.every((lead) => sent().every((send) => send.jid !== lead.jid))).toBe(true);

    // Each send is the bot's outbound message to its lead, linked to the firing's row.
    const rows = await followUpRows(tenantA, firingId);
    expect(rows.map((row) => [row.leadId, row.status])).toEqual(matching.map((lead) => [lead.leadId, 'sent']).sort());
    const stored = await withTenant(tenantA.tenantId, (tx) => tx.any(sql.type(z.object({ leadId: z.uuid(), waMessageId: z.string(), body: z.string() }))`
      SELECT lead_id AS "leadId", wa_message_id AS "waMessageId", body FROM lead_messages
       WHERE direction = 'outbound' AND wa_message_id = ANY (${sql.array(rows.map((row) => row.waMessageId!), 'text')}) ORDER BY lead_id`));
    expect(stored.map((message) => [message.leadId, message.waMessageId])).toEqual(rows.map((row) => [row.leadId, row.waMessageId]));
    expect(new Set(sent().map((send) => send.waMessageId))).toEqual(new Set(rows.map((row) => row.waMessageId)));

    // Paced: 60 per minute is one send, then a 1 s timer, each; no send while a timer runs.
    const history = await client.workflow.getHandle(firingId).fetchHistory();
    const steps = history.events!.flatMap((event) => {
      if (event.activityTaskScheduledEventAttributes?.activityType?.name === 'sendText') return ['send'];
      const timer = event.timerStartedEventAttributes?.startToFireTimeout;
      if (timer) return [`timer ${Number(timer.seconds ?? 0) * 1000 + Number(timer.nanos ?? 0) / 1e6} ms`];
      return event.timerFiredEventAttributes ? ['fired'] : [];
    });
    expect(steps).toEqual(['send', 'timer 1000 ms', 'fired', 'send', 'timer 1000 ms', 'fired', 'send', 'timer 1000 ms', 'fired']);

    // The same firing again (a retry, or a worker that lost it): every lead is sent already.
    const again = await runFiring({ tenantId: tenantA.tenantId, scheduleId, botId: tenantA.botId }, firingId);
    expect(again.followUp).toMatchObject({ matched: 3, sent: 3, sentNow: 0 });
    expect(sent()).toHaveLength(3);
    // A new firing: the three were just written to, so they are no longer idle.
    const next = await runFiring({ tenantId: tenantA.tenantId, scheduleId, botId: tenantA.botId });
    expect(next.followUp).toMatchObject({ matched: 0, sent: 0, sentNow: 0 });
    expect(sent()).toHaveLength(3);
    // The firing and its re-run, for test/replay.test.ts.
    expect(await saveHistories(config, client, firingId, 'schedule-follow-up')).toBe(2);
  }, 120_000);

  it('keeps the first action types valid: follow_up reaches leads idle for 7 days, broadcast every lead of the bot', async () => {
    const idle = await addLead(tenantA, { name: 'Duda', stage: null, score: 0, idleDays: 8 });
    const recent = await addLead(tenantA, { name: 'Enzo', stage: null, score: 0, idleDays: 1 });
    const followUp = await insertSchedule(tenantA, { type: 'follow_up' });
    const result = await runFiring({ tenantId: tenantA.tenantId, scheduleId: followUp, botId: tenantA.botId });
    expect(result.followUp!.sent).toBe(result.followUp!.matched);
    expect(pod.sends(tenantA.botId).filter((send) => send.jid === idle.jid).map((send) => send.text)).toEqual(['Olá Duda, ainda posso ajudar com alguma coisa?']);
    expect(pod.sends(tenantA.botId).filter((send) => send.jid === recent.jid)).toEqual([]);

    const broadcast = await insertSchedule(tenantA, { type: 'broadcast', message: 'Promoção hoje' });
    const everyone = await runFiring({ tenantId: tenantA.tenantId, scheduleId: broadcast, botId: tenantA.botId });
    const reachable = await withTenant(tenantA.tenantId, (tx) => tx.oneFirst(sql.type(z.object({ n: z.number() }))`
      SELECT count(*)::int AS n FROM leads WHERE bot_id = ${tenantA.botId} AND NOT ('opt-out' = ANY (tags))`));
    expect(everyone.followUp).toMatchObject({ matched: reachable, sent: reachable });
    expect(pod.sends(tenantA.botId).filter((send) => send.jid === recent.jid).map((send) => send.text)).toEqual(['Promoção hoje']);
  }, 120_000);

  it('sends nothing for a paused bot, and audits why', async () => {
    const pausedBot = await withTenant(tenantA.tenantId, (tx) => tx.oneFirst(sql.type(z.object({ id: z.uuid() }))`
      INSERT INTO bots (tenant_id, name, status) VALUES (${tenantA.tenantId}, 'Paused', 'paused') RETURNING id`));
    const paused = await insertSchedule(tenantA, { type: 'broadcast', message: 'oi' }, pausedBot);
    const result = await runFiring({ tenantId: tenantA.tenantId, scheduleId: paused, botId: pausedBot });
    expect(result).toEqual({ fired: true, followUp: { matched: 0, sent: 0, skipped: 0, failed: 0, pending: 0, truncated: false, sentNow: 0 } });
    const reason = await withTenant(tenantA.tenantId, (tx) => tx.oneFirst(sql.type(z.object({ reason: z.string() }))`
      SELECT details->>'stoppedBecause' AS reason FROM audit_logs WHERE action = 'schedule.follow_up' AND details->>'scheduleId' = ${paused}`));
    expect(reason).toBe('the bot is paused');

  }, 60_000);

  it('fails the firing readably when the tenant\'s bot pod is down, and leaves its leads unsent', async () => {
    const lead = await addLead(tenantB, { stage: 0, score: 50 });
    const scheduleId = await insertSchedule(tenantB, { type: 'whatsapp_follow_up', segment: { idleDays: 7 }, message: 'oi {name}' });
    const workflowId = `${scheduledRunWorkflowId(tenantB.tenantId, scheduleId)}-${new Date().toISOString()}`;
    const failed = runFiring({ tenantId: tenantB.tenantId, scheduleId, botId: tenantB.botId }, workflowId);
    await expect(failed).rejects.toMatchObject({
      cause: { message: expect.stringMatching(new RegExp(`bot pod of tenant ${tenantB.tenantId} did not send to lead .* within ${SEND_TIMEOUT_SECONDS} s .*0 sent`)) },
    });
    const rows = await followUpRows(tenantB, workflowId);
    expect(rows.find((row) => row.leadId === lead.leadId)?.status).toBe('pending');
    expect(rows.every((row) => row.status === 'pending')).toBe(true);
    const audit = await withTenant(tenantB.tenantId, (tx) => tx.one(sql.type(z.object({ details: z.record(z.string(), z.unknown()) }))`
      SELECT details FROM audit_logs WHERE action = 'schedule.follow_up' AND details->>'workflowId' = ${workflowId}`));
    expect(audit.details).toMatchObject({ sent: 0, pending: rows.length, stoppedBecause: expect.stringContaining('did not send') });
  }, 60_000);

  it('resumes a firing whose worker was killed mid-send: each lead gets the message exactly once', async () => {
    const leads = await Promise.all(Array.from({ length: 6 }, (_, n) => addLead(tenantA, { name: `Kill ${n}`, score: 777 })));
    const scheduleId = await insertSchedule(tenantA, { type: 'whatsapp_follow_up', segment: { minScore: 777, maxScore: 777 }, message: 'Volta, {name}', ratePerMinute: 60 });
    const workflowId = `${scheduledRunWorkflowId(tenantA.tenantId, scheduleId)}-${new Date().toISOString()}`;
    const firing = await client.workflow.start('scheduledTenantRun', {
      workflowId, taskQueue: config.temporal.taskQueue, args: [{ tenantId: tenantA.tenantId, scheduleId, botId: tenantA.botId } satisfies ScheduledRunInput],
    });
    await waitUntil('two leads sent to', async () => (await followUpRows(tenantA, workflowId)).filter((row) => row.status === 'sent').length >= 2, 60_000);
    worker.kill('SIGKILL');
    await once(worker, 'exit');
    worker = await startWorker();

    expect((await firing.result() as ScheduledRunResult).followUp).toMatchObject({ matched: 6, sent: 6, skipped: 0, failed: 0, pending: 0 });
    const texts = pod.sends(tenantA.botId).filter((send) => leads.some((lead) => lead.jid === send.jid)).map((send) => send.text);
    expect(texts.sort()).toEqual(leads.map((_, n) => `Volta, Kill ${n}`).sort());
    const recorded = await withTenant(tenantA.tenantId, (tx) => tx.oneFirst(sql.type(z.object({ n: z.number() }))`
      SELECT count(*)::int AS n FROM lead_messages WHERE direction = 'outbound' AND lead_id = ANY (${sql.array(leads.map((lead) => lead.leadId), 'uuid')})`));
    expect(recorded).toBe(6);
  }, 120_000);

  it('skips, from the next send on, leads that opt out and every lead once the bot is paused during the firing', async () => {
    for (const [score, change, detail] of [
      [556, (leadIds: string[]) => sql.unsafe`UPDATE leads SET tags = tags || '{opt-out}' WHERE id = ANY (${sql.array(leadIds, 'uuid')})`, 'the lead opted out'],
      [557, () => sql.unsafe`UPDATE bots SET status = 'paused' WHERE id = ${tenantA.botId}`, 'the bot is paused'],
    ] as const) {
      const leads = await Promise.all(Array.from({ length: 3 }, () => addLead(tenantA, { score })));
      const scheduleId = await insertSchedule(tenantA, { type: 'whatsapp_follow_up', segment: { minScore: score, maxScore: score }, message: 'oi', ratePerMinute: 30 });
      const workflowId = `${scheduledRunWorkflowId(tenantA.tenantId, scheduleId)}-${new Date().toISOString()}`;
      const firing = await client.workflow.start('scheduledTenantRun', {
        workflowId, taskQueue: config.temporal.taskQueue, args: [{ tenantId: tenantA.tenantId, scheduleId, botId: tenantA.botId } satisfies ScheduledRunInput],
      });
      // The first send is followed by a 2 s timer: the change lands before the second send.
      await waitUntil('one lead sent to', async () => (await followUpRows(tenantA, workflowId)).some((row) => row.status === 'sent'), 60_000);
      await withTenant(tenantA.tenantId, (tx) => tx.query(change(leads.map((lead) => lead.leadId))));
      try {
        expect((await firing.result() as ScheduledRunResult).followUp).toMatchObject({ matched: 3, sent: 1, skipped: 2, pending: 0 });
      } finally {
        await withTenant(tenantA.tenantId, (tx) => tx.query(sql.unsafe`UPDATE bots SET status = 'active' WHERE id = ${tenantA.botId}`));
      }
      expect((await followUpRows(tenantA, workflowId)).filter((row) => row.status === 'skipped').map((row) => row.detail)).toEqual([detail, detail]);
      expect(pod.sends(tenantA.botId).filter((send) => leads.some((lead) => lead.jid === send.jid))).toHaveLength(1);
    }
  }, 120_000);

  it('refuses an action naming a stage that is not the tenant\'s, or a rate above the cap, and changes nothing', async () => {
    const action = { type: 'whatsapp_follow_up', segment: { idleDays: 3 }, message: 'oi' };
    for (const [refused, status] of [
      [{ ...action, segment: { stageIds: [tenantB.stageIds[0]] } }, 422],
      [{ ...action, segment: { stageIds: [randomUUID()] } }, 422],
      [{ ...action, ratePerMinute: config.schedules.followUp.maxRatePerMinute + 1 }, 422],
      [{ ...action, segment: { minScore: 10, maxScore: 5 } }, 400],
      [{ ...action, segment: { idleDays: 0 } }, 400],
      [{ type: 'email_enrollment', segment: {}, sequenceId: 'nope' }, 400],
    ] as const) {
      const response = await call('POST', schedulesOf(tenantA), { name: 'Refused', cron: '0 9 * * *', action: refused });
      expect([response.status, response.json.status]).toEqual([status, status]);
    }
    const scheduleId = await insertSchedule(tenantA, action);
    const patched = await call('PATCH', `${schedulesOf(tenantA)}/${scheduleId}`, { action: { ...action, segment: { stageIds: [tenantB.stageIds[1]] } } });
    expect([patched.status, patched.json.detail]).toEqual([422, `action.segment.stageIds: ${tenantB.stageIds[1]} is not a stage of this tenant`]);
    const stored = await withTenant(tenantA.tenantId, (tx) => tx.oneFirst(sql.type(z.object({ action: z.unknown() }))`SELECT action FROM schedules WHERE id = ${scheduleId}`));
    expect(stored).toEqual(action);
    const accepted = await call('PATCH', `${schedulesOf(tenantA)}/${scheduleId}`, { action: { ...action, segment: { stageIds: [tenantA.stageIds[1]] }, ratePerMinute: 5 } });
    expect(accepted.status).toBe(200);
  }, 60_000);

  it('fills in the lead\'s name without its WhatsApp formatting', () => {
    expect(renderFollowUpText('Oi {name}!', { name: ' *Zé*  _da_\n~Silva~ ' })).toBe('Oi Zé da Silva!');
    expect(renderFollowUpText('Oi {name}, tudo bem?', { name: '**' })).toBe('Oi, tudo bem?');
    expect(renderFollowUpText('Sem nome', { name: null })).toBe('Sem nome');
  });
});
