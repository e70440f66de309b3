// The pod's volume runs out of space, for real: a tmpfs filled to its last byte. Nothing the pod
// acknowledged is lost, nothing it could not store is acknowledged, it says why and is not ready
// meanwhile, and it recovers by itself when space frees.
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createInboundQueue } from '../bot-pods/inbound-queue.ts';
import { JournalWriteError, readJournal } from '../bot-pods/journal.ts';
import { openOutbox } from '../bot-pods/outbox.ts';
import { messageIdFor, openSentLog } from '../bot-pods/sent-log.ts';
import { createSimulatorTransport } from '../bot-pods/simulator-transport.ts';
import { loadConfig } from '../core/config.ts';
import { createDatabasePools, type DatabasePools } from '../core/db/pools.ts';
import { createWithTenant } from '../core/db/with-tenant.ts';
import type { InboundMessage } from '../core/temporal/lead-conversation.ts';
import { startBotPod } from './support/bot-pod.ts';
import { processGroup } from './support/processes.ts';
import { fillVolume, freeVolume, mountSmallVolume, unmountSmallVolume } from './support/small-volume.ts';
import { seedTenant } from './support/tenant-fixture.ts';

const processes = processGroup();
let volume: string;
let pools: DatabasePools;
beforeAll(async () => {
  volume = mountSmallVolume(2 * 1024 * 1024);
  pools = await createDatabasePools(loadConfig().database);
});
afterEach(() => freeVolume(volume));
afterAll(async () => {
  await processes.stopAll();
  await pools.end();
  unmountSmallVolume(volume);
});

const inbound = (i: number): InboundMessage => ({
  tenantId: '00000000-0000-4000-8000-000000000001', botId: '00000000-0000-4000-8000-000000000002',
  waId: `55119${String(i % 7).padStart(8, '0')}`, waMessageId: `FULL-${i}`, text: `message ${i}`, receivedAt: new Date(0).toISOString(),
});
const subdir = (name: string) => {
  const dir = join(volume, name);
  mkdirSync(dir);
  return dir;
};

describe('a full volume', () => {
  it('outbox: every add that returned is kept, in order; an add that could not be stored throws and leaves no fragment', async () => {
    const path = join(subdir('outbox'), 'outbox.jsonl');
    const outcomes: (JournalWriteError | null)[] = [];
    const outbox = openOutbox(path, { journal: { onWrite: (error) => outcomes.push(error) } });
    const accepted: string[] = [];
    let next = 0;
    const add = () => {
      const message = inbound(next++);
      outbox.add(message);
      accepted.push(message.waMessageId);
    };
    for (let i = 0; i < 10; i += 1) add();
    fillVolume(volume);
    // The file's last page still takes a few records; the one that crosses it is a short write.
    let refused: unknown = null;
    for (let i = 0; i < 1_000 && !refused; i += 1) {
      const sizeBefore = statSync(path).size;
      try {
        add();
      } catch (error) {
        refused = error;
        expect(statSync(path).size).toBe(sizeBefore);
      }
    }
    expect(refused).toBeInstanceOf(JournalWriteError);
    expect((refused as JournalWriteError).code).toBe('ENOSPC');
    expect(outcomes.at(-1)).toBe(refused);
    expect(() => add()).toThrow(JournalWriteError); // still full

    freeVolume(volume);
    for (let i = 0; i < 5; i += 1) add();
    expect(outcomes.at(-1)).toBeNull();
    await outbox.close();
    expect(openOutbox(path).pending().map((message) => message.waMessageId)).toEqual(accepted);
  });

  it('sent-log: a send whose intent cannot be recorded is not sent; one sent but not recorded as sent is sent again only under its own id', async () => {
    const dir = subdir('sent-log');
    const network = createSimulatorTransport('bot', join(mkdtempSync(join(tmpdir(), 'network-')), 'network.jsonl'), {
      onMessage: async () => undefined, onStatus: () => undefined,
    });
    await network.start();
    const sentLog = openSentLog(join(dir, 'sent-log.jsonl'));
    const send = (key: string) => sentLog.sendOnce(key, (waMessageId) => network.sendText('5511999990000@s.whatsapp.net', key, waMessageId));

    fillVolume(volume);
    const results: { key: string; sent: boolean }[] = [];
    for (let i = 0; i < 1_000 && results.every((result) => result.sent); i += 1) {
      const key = `reply:FULL-${i}`;
      results.push({ key, sent: await send(key).then(() => true, (error: unknown) => { expect(error).toBeInstanceOf(JournalWriteError); return false; }) });
    }
    const refused = results.at(-1)!;
    expect(refused.sent).toBe(false);
    // What succeeded went out once each; what was refused did not go out.
    expect(network.sent().map((sent) => sent.text)).toEqual(results.filter((result) => result.sent).map((result) => result.key));

    // The intent is recorded, then the volume fills while the message goes out, until a `sent`
    // record is refused (the file's last page may still take a few).
    let key = '';
    for (let i = 0; i < 1_000; i += 1) {
      freeVolume(volume);
      key = `reply:SENT-NOT-RECORDED-${i}`;
      const result = await sentLog.sendOnce(key, async (waMessageId) => {
        await network.sendText('5511999990000@s.whatsapp.net', key, waMessageId);
        fillVolume(volume);
      });
      expect(result).toEqual({ waMessageId: messageIdFor(key), alreadySent: false });
      const states = readJournal<{ key: string; state: string }>(join(dir, 'sent-log.jsonl')).filter((entry) => entry.key === key).map((entry) => entry.state);
      if (states.length === 1) break;
    }
    expect(readJournal<{ key: string; state: string }>(join(dir, 'sent-log.jsonl')).filter((entry) => entry.key === key).map((entry) => entry.state)).toEqual(['sending']);
    // Within this life the key counts as sent: no second message.
    expect(await sentLog.sendOnce(key, () => { throw new Error('must not send'); })).toEqual({ waMessageId: messageIdFor(key), alreadySent: true });
    sentLog.close();
    freeVolume(volume);

    // The completion was lost with the pod: Temporal retries after a restart.
    const restarted = openSentLog(join(dir, 'sent-log.jsonl'));
    const retried = await restarted.sendOnce(key, (waMessageId) => network.sendText('5511999990000@s.whatsapp.net', key, waMessageId));
    expect(retried.waMessageId).toBe(messageIdFor(key));
    expect(network.sent().filter((sent) => sent.text === key)).toHaveLength(1);
    // The refused one is sent when retried, once.
    await restarted.sendOnce(refused.key, (waMessageId) => network.sendText('5511999990000@s.whatsapp.net', refused.key, waMessageId));
    expect(network.sent().filter((sent) => sent.text === refused.key)).toHaveLength(1);
    restarted.close();
    await network.stop();
  });

  it('Baileys path (receipt already sent): a message the volume refuses is held, later ones queue behind it, all stored in order once space frees', async () => {
    const path = join(subdir('held'), 'outbox.jsonl');
    const outbox = openOutbox(path);
    const held: number[] = [];
    const dropped: unknown[] = [];
    const queue = createInboundQueue(async (message: InboundMessage) => { outbox.add(message); }, {
      isStopping: () => false, onHeld: (_error, retry) => held.push(retry), onDropped: (error) => dropped.push(error), retryBaseMs: 20, retryMaxMs: 100,
    });
    fillVolume(volume);
    const messages = Array.from({ length: 200 }, (_, i) => inbound(i));
    for (const message of messages) queue.push(message);
    for (const deadline = Date.now() + 5_000; held.length < 3 && Date.now() < deadline; ) await sleep(10);
    expect(held.length).toBeGreaterThanOrEqual(3);
    freeVolume(volume);
    await queue.settled();
    expect(dropped).toEqual([]);
    await outbox.close();
    expect(openOutbox(path).pending().map((message) => message.waMessageId)).toEqual(messages.map((message) => message.waMessageId));
  });

  it('pod: refuses messages with 503 "Volume cannot persist", is not ready, recovers by itself, and loses nothing it acknowledged across a SIGKILL', async () => {
    const withTenant = createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 });
    const tenant = await seedTenant(withTenant);
    const dataDir = subdir('pod');
    // No Temporal: every accepted message waits in the outbox, where the test reads it, and the
    // pod runs the bots the platform last named (its cache on the volume).
    writeFileSync(join(dataDir, 'active-bots.json'), JSON.stringify([tenant.botId]));
    const env = { TEMPORAL_ADDRESS: '127.0.0.1:9' };
    let pod = await startBotPod(processes, tenant.tenantId, { dataDir, env });
    const inject = (id: string) => fetch(`${pod.url}/simulator/bots/${tenant.botId}/inbound`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ key: { remoteJid: '5511922223333@s.whatsapp.net', id, fromMe: false }, message: { conversation: `text of ${id}` }, messageTimestamp: 1_790_000_000 }),
    });
    const ready = async () => {
      const response = await fetch(`${pod.url}/health/ready`);
      return { status: response.status, body: await response.json() as { volume: { writable: boolean; reason?: string } } };
    };
    const accepted: string[] = [];
    let next = 0;
    const injectNext = async () => {
      const id = `POD-FULL-${next++}`;
      const response = await inject(id);
      if (response.status === 202) accepted.push(id);
      return response;
    };

    for (let i = 0; i < 5; i += 1) expect((await injectNext()).status).toBe(202);
    fillVolume(volume);
    let refusal: Response | null = null;
    for (let i = 0; i < 1_000 && !refusal; i += 1) {
      const response = await injectNext();
      if (response.status !== 202) refusal = response;
    }
    expect(refusal!.status).toBe(503);
    expect(refusal!.headers.get('retry-after')).toBe('5');
    expect(await refusal!.json()).toMatchObject({ status: 503, title: 'Volume cannot persist', detail: expect.stringMatching(/ENOSPC/) });
    expect(await ready()).toEqual({ status: 503, body: expect.objectContaining({ volume: expect.objectContaining({ writable: false, reason: expect.stringMatching(/ENOSPC/) }) }) });
    expect((await injectNext()).status).toBe(503);

    freeVolume(volume);
    // No traffic needed: the pod's probe finds the space again.
    let recovered = await ready();
    for (const deadline = Date.now() + 10_000; recovered.status !== 200 && Date.now() < deadline; await sleep(100)) recovered = await ready();
    expect(recovered).toEqual({ status: 200, body: expect.objectContaining({ volume: { writable: true } }) });
    for (let i = 0; i < 5; i += 1) expect((await injectNext()).status).toBe(202);

    pod.child.kill('SIGKILL');
    await once(pod.child, 'exit');
    pod = await startBotPod(processes, tenant.tenantId, { dataDir, env });
    const pending = readJournal<{ op: string; message?: InboundMessage }>(join(dataDir, 'outbox.jsonl')).flatMap((entry) => entry.message ? [entry.message.waMessageId] : []);
    expect(pending).toEqual(accepted);
    expect((await ready()).status).toBe(200);
  }, 60_000);
});
