// Stand-in for a tenant's bot pod until the bot pod issue lands: serves the final task-queue
// contract (`bot-pod.<tenantId>`, BotPodActivities) and records every send in a durable sent-log,
// so a retried activity never sends twice. Usage: node stand-in-bot-pod.ts <tenantId> <sent-log>
import { appendFileSync, existsSync, readFileSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { NativeConnection, Worker } from '@temporalio/worker';
import { loadConfigOrExit } from '../../core/config.ts';
import { botPodTaskQueue, type BotPodActivities, type SendTextInput } from '../../core/temporal/lead-conversation.ts';

const [tenantId, sentLog] = process.argv.slice(2) as [string, string];
const config = loadConfigOrExit();

const sent = new Map<string, string>(
  existsSync(sentLog)
    ? readFileSync(sentLog, 'utf8').split('\n').filter(Boolean).map((line) => {
      const entry = JSON.parse(line) as { idempotencyKey: string; waMessageId: string };
      return [entry.idempotencyKey, entry.waMessageId];
    })
    : [],
);

const activities: BotPodActivities = {
  async sendText(input: SendTextInput) {
    const previous = sent.get(input.idempotencyKey);
    if (previous) return { waMessageId: previous, alreadySent: true };
    // Deterministic, so a benchmark can join each reply to the message it answers.
    const waMessageId = `OUT-${input.idempotencyKey}`;
    appendFileSync(sentLog, `${JSON.stringify({ ...input, waMessageId })}\n`);
    const fd = openSync(sentLog, 'r');
    fsyncSync(fd);
    closeSync(fd);
    sent.set(input.idempotencyKey, waMessageId);
    return { waMessageId, alreadySent: false };
  },
};

const connection = await NativeConnection.connect({ address: config.temporal.address });
const worker = await Worker.create({ connection, namespace: config.temporal.namespace, taskQueue: botPodTaskQueue(tenantId), activities });
process.stdout.write('stand-in bot pod ready\n');
await worker.run();
await connection.close();
