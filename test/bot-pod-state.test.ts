// The bot pod's state on its volume: the Baileys auth store, the inbound outbox and the sent-log,
// on real files, including SIGKILL at any moment.
import { once } from 'node:events';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from '@jest/globals';
import { BufferJSON, initAuthCreds, proto } from '@whiskeysockets/baileys';
import { openAuthStore } from '../bot-pods/auth-store.ts';
import { openOutbox } from '../bot-pods/outbox.ts';
import { messageIdFor, openSentLog } from '../bot-pods/sent-log.ts';
import { createSimulatorTransport } from '../bot-pods/simulator-transport.ts';
import { backoffDelayMs } from '../core/backoff.ts';
import type { InboundMessage } from '../core/temporal/lead-conversation.ts';
import { processGroup } from './support/processes.ts';

const processes = processGroup();
afterAll(() => processes.stopAll());
const scratch = () => mkdtempSync(join(tmpdir(), 'pod-state-'));

describe('auth store', () => {
  it('round-trips Baileys\' own initAuthCreds() and every kind of key through the volume', async () => {
    const dir = scratch();
    const store = await openAuthStore(dir);
    const fresh = initAuthCreds();
    Object.assign(store.state.creds, fresh);
    await store.saveCreds();
    const syncKey = proto.Message.AppStateSyncKeyData.fromObject({ keyData: Buffer.from('key-data'), timestamp: 1700000000 });
    await store.state.keys.set({
      'pre-key': { 1: { public: Buffer.alloc(32, 1), private: Buffer.alloc(32, 2) } },
      session: { '5511999990000.0': Buffer.from('session bytes') },
      'app-state-sync-key': { AAAA: syncKey },
      'lid-mapping': { '5511999990000': '123456789012345' },
    });

    const reopened = await openAuthStore(dir);
    expect(JSON.stringify(reopened.state.creds, BufferJSON.replacer)).toBe(JSON.stringify(fresh, BufferJSON.replacer));
    const preKey = await reopened.state.keys.get('pre-key', ['1', '2']);
    expect(Buffer.from(preKey['1']!.private).equals(Buffer.alloc(32, 2))).toBe(true);
    expect(preKey['2']).toBeUndefined();
    const sync = await reopened.state.keys.get('app-state-sync-key', ['AAAA']);
    expect(sync['AAAA']).toBeInstanceOf(proto.Message.AppStateSyncKeyData);
    expect(await reopened.state.keys.get('lid-mapping', ['5511999990000'])).toEqual({ '5511999990000': '123456789012345' });

    await reopened.state.keys.set({ session: { '5511999990000.0': null } });
    expect((await (await openAuthStore(dir)).state.keys.get('session', ['5511999990000.0']))['5511999990000.0']).toBeUndefined();
  });

  it('loads after a SIGKILL at any moment of a write burst, 25 times in a row', async () => {
    const dir = scratch();
    for (let kill = 0; kill < 25; kill += 1) {
      const writer = await processes.start(['test/support/auth-writer.ts', dir], { readyText: 'writing' });
      await sleep(20 + Math.floor(Math.random() * 120));
      writer.kill('SIGKILL');
      await once(writer, 'exit');
      const store = await openAuthStore(dir); // throws on a torn file
      expect(typeof store.state.creds.nextPreKeyId).toBe('number');
      const names = readdirSync(dir).filter((name) => name.startsWith('pre-key-'));
      const ids = names.map((name) => name.slice('pre-key-'.length, -'.json'.length));
      const keys = await store.state.keys.get('pre-key', ids);
      expect(Object.values(keys).every((key) => key && Buffer.from(key.private).length === 32)).toBe(true);
      expect(readdirSync(dir).some((name) => name.endsWith('.tmp'))).toBe(false);
    }
  }, 120_000);
});

const inbound = (waId: string, i: number): InboundMessage => ({
  tenantId: '00000000-0000-4000-8000-000000000001', botId: '00000000-0000-4000-8000-000000000002',
  waId, waMessageId: `${waId}-${i}`, text: `message ${i}`, receivedAt: new Date(0).toISOString(),
});

describe('inbound outbox', () => {
  it('keeps messages across a restart, drops a second delivery of an id, and drains in order once Temporal takes them', async () => {
    const path = join(scratch(), 'outbox.jsonl');
    const first = openOutbox(path);
    expect([first.add(inbound('a', 1)), first.add(inbound('b', 1)), first.add(inbound('a', 2)), first.add(inbound('a', 1))]).toEqual([true, true, true, false]);
    await first.close(); // the pod dies before anything was delivered

    const outbox = openOutbox(path, { retryBaseMs: 5, retryMaxMs: 20 });
    expect(outbox.pending().map((message) => message.waMessageId)).toEqual(['a-1', 'b-1', 'a-2']);
    const delivered: string[] = [];
    let temporalUp = false;
    const draining = outbox.drain(async (message) => {
      if (!temporalUp) throw new Error('UNAVAILABLE');
      delivered.push(message.waMessageId);
    });
    await sleep(100);
    expect(delivered).toEqual([]);
    temporalUp = true;
    outbox.notify();
    for (let i = 0; i < 100 && delivered.length < 3; i += 1) await sleep(10);
    expect(delivered).toEqual(['a-1', 'b-1', 'a-2']);
    expect(outbox.add(inbound('a', 2))).toBe(false); // a late redelivery of a delivered message
    await outbox.close();
    await draining;
    expect(openOutbox(path).pending()).toEqual([]);
  });
});

describe('sent-log', () => {
  it('sends one message when a send is retried after the pod died between sending and recording it', async () => {
    const dir = scratch();
    const network = join(dir, 'network.jsonl');
    const handlers = { onMessage: async () => undefined, onStatus: () => undefined };
    const key = 'reply:WAMID-1';

    // First life: the send reaches WhatsApp, then the pod dies before the sent-log records it.
    const first = openSentLog(join(dir, 'sent-log.jsonl'));
    const whatsapp = createSimulatorTransport('bot', network, handlers);
    await whatsapp.start();
    const dying = first.sendOnce(key, async (waMessageId) => {
      await whatsapp.sendText('5511999990000@s.whatsapp.net', 'hello', waMessageId);
      throw new Error('SIGKILL'); // the process is gone: nothing after the send ran
    });
    await expect(dying).rejects.toThrow('SIGKILL');
    first.close();
    await whatsapp.stop();

    // Second life: Temporal retries the activity.
    const again = openSentLog(join(dir, 'sent-log.jsonl'));
    const restarted = createSimulatorTransport('bot', network, handlers);
    await restarted.start();
    const retried = await again.sendOnce(key, (waMessageId) => restarted.sendText('5511999990000@s.whatsapp.net', 'hello', waMessageId));
    expect(retried).toEqual({ waMessageId: messageIdFor(key), alreadySent: false });
    expect(await again.sendOnce(key, () => { throw new Error('must not send'); })).toEqual({ waMessageId: messageIdFor(key), alreadySent: true });
    expect(restarted.sent()).toHaveLength(1);
    again.close();
    await restarted.stop();
  });
});

describe('reconnect backoff', () => {
  it('grows exponentially up to its ceiling, with full jitter', () => {
    expect([1, 2, 3, 4, 10].map((attempt) => backoffDelayMs(attempt, 1_000, 60_000, () => 0.999))).toEqual([999, 1998, 3996, 7992, 59940]);
    expect(backoffDelayMs(5, 1_000, 60_000, () => 0)).toBe(0);
  });
});
