// The bot pod as a process (simulator transport) with the platform worker, Temporal and Postgres:
// a simulated WhatsApp user is answered end to end, and no inbound message is lost or doubled
// while Temporal is down and the pod itself is SIGKILLed.
import { once } from 'node:events';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ChildProcess } from 'node:child_process';
import { WorkflowFailedError } from '@temporalio/client';
import { sql } from 'slonik';
import { z } from 'zod';
import { messageIdFor } from '../bot-pods/sent-log.ts';
import { loadConfig } from '../core/config.ts';
import { createDatabasePools, type DatabasePools } from '../core/db/pools.ts';
import { createWithTenant, type WithTenant } from '../core/db/with-tenant.ts';
import { connectTemporalClient } from '../core/temporal/client.ts';
import { sessionSnapshotKey } from '../core/object-keys.ts';
import { startTemporal, stopTemporal } from '../stack/temporal.ts';
import type * as workflows from '../workflows/index.ts';
import { startBotPod, type BotPodHandle } from './support/bot-pod.ts';
import { processGroup } from './support/processes.ts';
import { fillVolume, freeVolume, mountSmallVolume, unmountSmallVolume } from './support/small-volume.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

const config = loadConfig();
const processes = processGroup();
let pools: DatabasePools;
let withTenant: WithTenant;
let tenant: TenantGraph;
let pod: BotPodHandle;
let worker: ChildProcess;
/** The pod's volume: a real small filesystem that the torture test fills and frees. */
let podVolume: string;

beforeAll(async () => {
  pools = await createDatabasePools(config.database);
  withTenant = createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 });
  tenant = await seedTenant(withTenant);
  worker = await processes.start(['worker/main.ts']);
  podVolume = mountSmallVolume(16 * 1024 * 1024);
  pod = await startBotPod(processes, tenant.tenantId, { dataDir: podVolume });
}, 60_000);
afterAll(async () => {
  await processes.stopAll();
  await pools.end();
  unmountSmallVolume(podVolume);
});

/** A message as Baileys hands it over in `messages.upsert` (proto.IWebMessageInfo). */
const webMessage = (id: string, remoteJid: string, message: object, key: object = {}) => ({
  key: { remoteJid, fromMe: false, id, ...key }, message, messageTimestamp: 1_790_000_000, pushName: 'Ana',
});
const inject = (body: unknown) => fetch(`${pod.url}/simulator/bots/${tenant.botId}/inbound`, {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
});

const messageCounts = (waIds: string[]) => withTenant(tenant.tenantId, (tx) => tx.one(sql.type(z.object({ inbound: z.number(), outbound: z.number() }))`
  SELECT count(*) FILTER (WHERE m.direction = 'inbound')::int AS inbound, count(*) FILTER (WHERE m.direction = 'outbound')::int AS outbound
  FROM lead_messages m JOIN leads l ON l.tenant_id = m.tenant_id AND l.id = m.lead_id
  WHERE l.bot_id = ${tenant.botId} AND l.wa_id = ANY(${sql.array(waIds, 'text')})`));
const waitForReplies = async (waIds: string[], expected: number, timeoutMs: number) => {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(250)) {
    if ((await messageCounts(waIds)).outbound >= expected) break;
  }
  await sleep(500); // a double reply would land now
  return messageCounts(waIds);
};

/**
 * The pod's volume full to its last byte: a message it refuses (503, not ready meanwhile) is sent
 * again once space is freed, as a WhatsApp sender whose message was not acknowledged would.
 */
const volumeRefusals = { count: 0 };
const injectThroughFullVolume = async (body: unknown) => {
  for (;;) {
    const response = await inject(body);
    if (response.status !== 503) return response;
    volumeRefusals.count += 1;
    expect(await response.json()).toMatchObject({ title: 'Volume cannot persist', detail: expect.stringMatching(/ENOSPC/) });
    expect((await fetch(`${pod.url}/health/ready`)).status).toBe(503);
    freeVolume(podVolume);
    for (const deadline = Date.now() + 10_000; !(await fetch(`${pod.url}/health/ready`)).ok; await sleep(100)) {
      if (Date.now() > deadline) throw new Error('the pod did not become ready after its volume was freed');
    }
  }
};
/** While replies go out: the volume fills for a few seconds (sent-log, outbox `done` records refused), then frees. */
const fillVolumeWhileReplying = async (waIds: string[], afterReplies: number) => {
  for (const deadline = Date.now() + 120_000; (await messageCounts(waIds)).outbound < afterReplies && Date.now() < deadline; ) await sleep(100);
  fillVolume(podVolume);
  let notReady = false;
  for (const until = Date.now() + 3_000; Date.now() < until; await sleep(100)) notReady ||= (await fetch(`${pod.url}/health/ready`)).status === 503;
  freeVolume(podVolume);
  expect(notReady).toBe(true);
};

type SenderForm = 'lid+phone' | 'lid' | 'phone';
/**
 * The issue-13 torture run: `people` senders, each writing under its phone, its `@lid`, and its
 * `@lid` with the phone, in a different order per person. Round 0 sends two forms of each person
 * at the same moment with Temporal up (the race that lost messages and split leads); the other
 * rounds arrive while Temporal is down, and the pod is SIGKILLed halfway through them.
 */
const tortureSwitchingIdentities = async (people: number, rounds: number) => {
  const persons = Array.from({ length: people }, (_, i) => ({ phone: `55119${String(8000000 + i)}`, lid: String(880000000000000 + i), i }));
  const webMessageOf = (person: (typeof persons)[number], form: SenderForm, id: string) => webMessage(
    id, form === 'phone' ? `${person.phone}@s.whatsapp.net` : `${person.lid}@lid`, { conversation: `${id}, qual o price?` },
    form === 'lid+phone' ? { remoteJidAlt: `${person.phone}@s.whatsapp.net` } : {});
  // A pairing message comes first or second; after it, any form in any order.
  const firstRound: SenderForm[][] = [['lid+phone', 'lid'], ['phone', 'lid+phone'], ['lid']];
  const laterForms: SenderForm[] = ['phone', 'lid', 'lid+phone'];
  const formsOf = (person: (typeof persons)[number]) => [
    firstRound[person.i % 3]!,
    ...Array.from({ length: rounds - 1 }, (_, round) => [person.i % 3 === 2 && round === 0 ? 'lid+phone' : laterForms[(person.i + round * (1 + (person.i % 2))) % 3]!]),
  ];
  const sentIds = new Map(persons.map((person) => [person.i, [] as string[][]]));
  const injectRound = (round: number) => Promise.all(persons.map(async (person) => {
    const ids = formsOf(person)[round]!.map((form, n) => ({ form, id: `SW-${person.i}-${round}-${n}` }));
    sentIds.get(person.i)!.push(ids.map(({ id }) => id));
    const responses = await Promise.all(ids.map(({ form, id }) => inject(webMessageOf(person, form, id))));
    expect(responses.map((response) => response.status)).toEqual(ids.map(() => 202));
  }));

  await injectRound(0);
  worker.kill('SIGTERM');
  await once(worker, 'exit');
  await stopTemporal(config);
  try {
    for (let round = 1; round < rounds; round += 1) {
      await injectRound(round);
      if (round === Math.floor(rounds / 2)) {
        pod.child.kill('SIGKILL');
        await once(pod.child, 'exit');
        pod = await startBotPod(processes, tenant.tenantId, { dataDir: pod.dataDir });
      }
    }
  } finally {
    await startTemporal(config);
  }
  worker = await processes.start(['worker/main.ts']);

  const allIds = [...sentIds.values()].flat(2);
  const countsOf = () => withTenant(tenant.tenantId, (tx) => tx.one(sql.type(z.object({ inbound: z.number(), outbound: z.number() }))`
    SELECT (SELECT count(*)::int FROM lead_messages WHERE bot_id = ${tenant.botId} AND direction = 'inbound' AND wa_message_id = ANY(${sql.array(allIds, 'text')})) AS inbound,
           count(*)::int AS outbound
    FROM lead_messages WHERE bot_id = ${tenant.botId} AND direction = 'outbound'
      AND wa_message_id = ANY(${sql.array(allIds.map((id) => messageIdFor(`reply:${id}`)), 'text')})`));
  for (const deadline = Date.now() + 180_000; Date.now() < deadline; await sleep(500)) {
    if ((await countsOf()).outbound >= allIds.length) break;
  }
  await sleep(1000); // a double reply would land now
  const counts = await countsOf();

  const leadsPerPerson = await Promise.all(persons.map((person) => withTenant(tenant.tenantId, (tx) => tx.oneFirst(sql.type(z.object({ leads: z.number() }))`
    SELECT count(DISTINCT id)::int AS leads FROM leads
    WHERE bot_id = ${tenant.botId} AND (phone_e164 = ${`+${person.phone}`} OR lid = ${person.lid} OR wa_id IN (${person.phone}, ${person.lid})
      OR id IN (SELECT lead_id FROM lead_messages WHERE bot_id = ${tenant.botId} AND wa_message_id = ANY(${sql.array(sentIds.get(person.i)!.flat(), 'text')})))`))));

  // Sends in the order the pod made them: each reply once, and a person's replies in the order
  // their messages were sent (the two of round 0 were sent at the same moment, so either order).
  const sends = pod.sends(tenant.botId).map((send) => send.waMessageId);
  const position = new Map(allIds.map((id) => [messageIdFor(`reply:${id}`), id]));
  const answered = sends.filter((sendId) => position.has(sendId)).map((sendId) => position.get(sendId)!);
  const unanswered = allIds.filter((id) => !answered.includes(id));
  const doubled = answered.filter((id, n) => answered.indexOf(id) !== n);
  const outOfOrder = persons.filter((person) => {
    const rank = new Map(sentIds.get(person.i)!.flatMap((ids, round) => ids.map((id) => [id, round] as const)));
    const rounds = answered.filter((id) => rank.has(id)).map((id) => rank.get(id)!);
    return rounds.some((round, n) => n > 0 && round < rounds[n - 1]!);
  }).map((person) => person.i);

  const client = await connectTemporalClient(config.temporal);
  const failedWorkflows: string[] = [];
  try {
    for await (const execution of client.workflow.list({ query: `TenantId = '${tenant.tenantId}' AND ExecutionStatus = 'Failed'` })) failedWorkflows.push(execution.workflowId);
  } finally {
    await client.connection.close();
  }
  return { sentMessages: allIds.length, counts, leadsPerPerson, unanswered, doubled, outOfOrder, failedWorkflows };
};

describe('bot pod', () => {
  it('holds no database credentials: none in its environment, no database module in its code', () => {
    const environment = readFileSync(`/proc/${pod.child.pid}/environ`, 'utf8').split('\0').map((entry) => entry.split('=')[0]);
    expect(environment).toContain('BOT_POD_TENANT_ID');
    expect(environment.filter((name) => name!.startsWith('DATABASE_') || name!.startsWith('PG'))).toEqual([]);
    const podModules = readdirSync('bot-pods').filter((file) => file.endsWith('.ts'));
    expect(podModules.filter((file) => /from '(\.\.\/core\/db\/[^']*|slonik|pg)'/.test(readFileSync(join('bot-pods', file), 'utf8')))).toEqual([]);
  });

  it('answers a simulated WhatsApp user end to end, and ignores its own messages, statuses and groups', async () => {
    const responses = await Promise.all([
      inject(webMessage('SIM-1', '5511911112222@s.whatsapp.net', { conversation: 'Olá, qual o price do plano?' })),
      inject(webMessage('SIM-2', '123456789012345@lid', { extendedTextMessage: { text: 'hi, price please' } }, { remoteJidAlt: '5511933334444@s.whatsapp.net' })),
      inject(webMessage('SIM-3', '5511911112222@s.whatsapp.net', { conversation: 'from the bot itself' }, { fromMe: true })),
      inject(webMessage('SIM-4', 'status@broadcast', { conversation: 'a status' }, { participant: '5511911112222@s.whatsapp.net' })),
      inject(webMessage('SIM-5', '120363000000000000@g.us', { conversation: 'group talk' }, { participant: '5511911112222@s.whatsapp.net' })),
    ]);
    expect(responses.map((response) => response.status)).toEqual([202, 202, 202, 202, 202]);
    expect((await inject(webMessage('SIM-6', '5511911112222@s.whatsapp.net', { imageMessage: { caption: 'this one, price?' } }))).status).toBe(202);

    expect(await waitForReplies(['5511911112222', '5511933334444'], 3, 30_000)).toEqual({ inbound: 3, outbound: 3 });
    const sent = pod.sends(tenant.botId);
    // The lid sender is answered where WhatsApp addressed it, and stored under its phone with its lid.
    expect(sent.map((send) => send.jid).sort()).toEqual(['123456789012345@lid', '5511911112222@s.whatsapp.net', '5511911112222@s.whatsapp.net']);
    const lidLead = await withTenant(tenant.tenantId, (tx) => tx.one(sql.type(z.object({ phone_e164: z.string().nullable(), lid: z.string().nullable() }))`
      SELECT phone_e164, lid FROM leads WHERE bot_id = ${tenant.botId} AND wa_id = '5511933334444'`));
    expect(lidLead).toEqual({ phone_e164: '+5511933334444', lid: '123456789012345' });
  }, 60_000);

  it('runs only its own tenant\'s bots: another tenant\'s bot is unknown to it', async () => {
    const other = await seedTenant(withTenant);
    const response = await fetch(`${pod.url}/simulator/bots/${other.botId}/inbound`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify(webMessage('SIM-X', '5511911112222@s.whatsapp.net', { conversation: 'hi' })),
    });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ title: 'Unknown bot' });
    const ready = await (await fetch(`${pod.url}/health/ready`)).json() as { bots: { botId: string }[] };
    expect(ready.bots.map((bot) => bot.botId)).toEqual([tenant.botId]);
    // The same state as the API reads it, through the pod's own task queue.
    const client = await connectTemporalClient(config.temporal);
    try {
      const statuses = await client.workflow.execute<typeof workflows.readBotStatus>('readBotStatus', {
        workflowId: `bot-status-test/${tenant.tenantId}`, taskQueue: config.temporal.taskQueue, args: [{ tenantId: tenant.tenantId }],
      });
      expect(statuses).toEqual([expect.objectContaining({ botId: tenant.botId, state: 'open' })]);
    } finally {
      await client.connection.close();
    }
  });

  it('refuses an injected body that is not a WebMessageInfo with a problem document', async () => {
    const response = await inject({ key: { id: 'x' }, message: 'text' });
    expect(response.status).toBe(422);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(await response.json()).toMatchObject({ status: 422, title: 'Not a WebMessageInfo' });
    expect((await fetch(`${pod.url}/health/ready`)).status).toBe(200);
  });

  it('loses nothing while Temporal is down, the pod is SIGKILLed and its volume fills and frees: 300 messages of 30 leads, each answered once, in order', async () => {
    const leads = Array.from({ length: 30 }, (_, i) => `55119${String(7000000 + i)}`);
    const messages = Array.from({ length: 300 }, (_, i) => ({ waId: leads[i % 30]!, id: `OUT-${i}`, text: `mensagem ${i}, qual o price?` }));
    worker.kill('SIGTERM');
    await once(worker, 'exit');
    await stopTemporal(config);
    try {
      for (const [i, message] of messages.entries()) {
        if (i === 150) fillVolume(podVolume);
        expect((await injectThroughFullVolume(webMessage(message.id, `${message.waId}@s.whatsapp.net`, { conversation: message.text }))).status).toBe(202);
      }
      expect(volumeRefusals.count).toBeGreaterThan(0);
      pod.child.kill('SIGKILL');
      await once(pod.child, 'exit');
      pod = await startBotPod(processes, tenant.tenantId, { dataDir: pod.dataDir });
    } finally {
      await startTemporal(config);
    }
    worker = await processes.start(['worker/main.ts']);

    await fillVolumeWhileReplying(leads, 100);
    expect(await waitForReplies(leads, 300, 150_000)).toEqual({ inbound: 300, outbound: 300 });
    const sent = pod.sends(tenant.botId);
    for (const waId of leads) {
      const expectedOrder = messages.filter((message) => message.waId === waId).map((message) => messageIdFor(`reply:${message.id}`));
      expect(sent.filter((send) => send.jid === `${waId}@s.whatsapp.net`).map((send) => send.waMessageId)).toEqual(expectedOrder);
    }
  }, 240_000);

  it('keeps one lead per person whose messages switch between @lid, @lid with phone and phone: none lost, doubled or out of order', async () => {
    const outcome = await tortureSwitchingIdentities(20, 10);
    // One summary, so a failure shows every figure at once.
    expect({
      failedWorkflows: outcome.failedWorkflows, stored: outcome.counts, unanswered: outcome.unanswered, doubled: outcome.doubled,
      outOfOrder: outcome.outOfOrder, peopleWithOtherThanOneLead: outcome.leadsPerPerson.filter((leads) => leads !== 1).length,
    }).toEqual({
      failedWorkflows: [], stored: { inbound: outcome.sentMessages, outbound: outcome.sentMessages }, unanswered: [], doubled: [],
      outOfOrder: [], peopleWithOtherThanOneLead: 0,
    });
  }, 300_000);

  it('snapshots the pod\'s sessions to S3 and restores them byte-identical onto a new pod\'s empty volume, once', async () => {
    const sessionFiles = { 'bot-a/creds.json': '{"me":{"id":"5511900000000@s.whatsapp.net"}}', 'bot-a/session-5511.0.json': '{"x":1}' };
    for (const [path, content] of Object.entries(sessionFiles)) {
      mkdirSync(dirname(join(pod.dataDir, 'sessions', path)), { recursive: true });
      writeFileSync(join(pod.dataDir, 'sessions', path), content);
    }
    const client = await connectTemporalClient(config.temporal);
    try {
      const objectKey = sessionSnapshotKey(tenant.tenantId, new Date().toISOString());
      const input = { tenantId: tenant.tenantId, objectKey };
      const snapshot = await client.workflow.execute<typeof workflows.snapshotTenantSessions>('snapshotTenantSessions', { workflowId: `snapshot/${objectKey}`, taskQueue: config.temporal.taskQueue, args: [input] });
      expect(snapshot).toMatchObject({ objectKey, files: 2 });

      // A new pod for the tenant, on an empty volume.
      pod.child.kill('SIGTERM');
      await once(pod.child, 'exit');
      pod = await startBotPod(processes, tenant.tenantId);
      const restore = (id: string) => client.workflow.execute<typeof workflows.restoreTenantSessions>('restoreTenantSessions', { workflowId: id, taskQueue: config.temporal.taskQueue, args: [input] });
      expect(await restore(`restore/${objectKey}`)).toEqual({ files: 2 });
      for (const [path, content] of Object.entries(sessionFiles)) expect(readFileSync(join(pod.dataDir, 'sessions', path), 'utf8')).toBe(content);

      // Never over sessions the pod already has: a readable, final failure.
      const again = await restore(`restore-again/${objectKey}`).catch((error: unknown) => error);
      expect(again).toBeInstanceOf(WorkflowFailedError);
      expect(String(((again as WorkflowFailedError).cause?.cause as Error | undefined)?.message)).toMatch(/not empty: sessions are restored only onto an empty volume/);
    } finally {
      await client.connection.close();
    }
  }, 120_000);
});
