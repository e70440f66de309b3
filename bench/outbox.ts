// The bot pod's inbound outbox alone: durable appends per second (one write + fsync each, what
// every inbound message costs before anything else) and the drain rate with a delivery that
// returns at once, beside raw appends of the same lines without fsync in the same run, and the
// same records inserted one transaction each into node:sqlite in WAL mode with synchronous=FULL
// (the alternative store the journal was weighed against).
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { openOutbox } from '../bot-pods/outbox.ts';
import type { InboundMessage } from '../core/temporal/lead-conversation.ts';

const message = (i: number): InboundMessage => ({
  tenantId: '00000000-0000-4000-8000-000000000001', botId: '00000000-0000-4000-8000-000000000002',
  waId: `55119${String(i % 100).padStart(8, '0')}`, waMessageId: `BENCH-${i}`,
  text: 'Olá! Quanto custa o plano anual para 25 usuários?', receivedAt: new Date(0).toISOString(),
});

export const runOutboxBench = async (messages = 2_000) => {
  const dir = mkdtempSync(join(tmpdir(), 'outbox-bench-'));
  try {
    let started = performance.now();
    for (let i = 0; i < messages; i += 1) appendFileSync(join(dir, 'raw.jsonl'), `${JSON.stringify({ op: 'add', message: message(i) })}\n`);
    const rawAppendsPerSecond = Math.round(messages / ((performance.now() - started) / 1000));

    const sqlite = new DatabaseSync(join(dir, 'outbox.sqlite'));
    sqlite.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; CREATE TABLE outbox (seq INTEGER PRIMARY KEY, entry TEXT NOT NULL)');
    const insert = sqlite.prepare('INSERT INTO outbox (entry) VALUES (?)');
    started = performance.now();
    for (let i = 0; i < messages; i += 1) insert.run(JSON.stringify({ op: 'add', message: message(i) }));
    const sqliteAppendsPerSecond = Math.round(messages / ((performance.now() - started) / 1000));
    sqlite.close();

    const outbox = openOutbox(join(dir, 'outbox.jsonl'));
    started = performance.now();
    for (let i = 0; i < messages; i += 1) outbox.add(message(i));
    const durableAppendsPerSecond = Math.round(messages / ((performance.now() - started) / 1000));

    let delivered = 0;
    let finished: () => void = () => undefined;
    const allDelivered = new Promise<void>((resolve) => { finished = resolve; });
    started = performance.now();
    const draining = outbox.drain(async () => {
      delivered += 1;
      if (delivered === messages) finished();
    });
    await allDelivered;
    const drainedPerSecond = Math.round(messages / ((performance.now() - started) / 1000));
    await outbox.close();
    await draining;
    return { messages, durableAppendsPerSecond, rawAppendsPerSecond, sqliteAppendsPerSecond, drainedPerSecond };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};
