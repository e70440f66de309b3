// A bot's WhatsApp session managed through the API: each command is a short workflow that calls the
// tenant's bot pod (the only process holding the socket) and fails fast, readably, when no pod
// picks the task up; and the connection history the pod reports, stored by the platform worker.
import { proxyActivities } from '@temporalio/workflow';
import type { BotSessionActivities } from '../activities/bot-sessions/index.ts';
import { botPodTaskQueue, type BotPodActivities, type RequestPairingCodeInput } from '../core/temporal/bot-pod.ts';
import type { BotSessionCommandInput, RecordBotSessionEventsInput } from '../core/temporal/bot-sessions.ts';

/** One attempt: a pod that does not take the task within 3 s is down, and the API says so. */
const podOf = (tenantId: string) => proxyActivities<BotPodActivities>({
  taskQueue: botPodTaskQueue(tenantId),
  scheduleToStartTimeout: '3 seconds',
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 1 },
});

const { storeBotSessionEvents } = proxyActivities<BotSessionActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 3, initialInterval: '1 second' },
});

export async function requestBotPairingCode(input: RequestPairingCodeInput): Promise<{ code: string }> {
  return podOf(input.tenantId).requestPairingCode(input);
}

export async function logoutBotSession(input: BotSessionCommandInput): Promise<void> {
  await podOf(input.tenantId).logoutBot(input);
}

export async function restartBotConnection(input: BotSessionCommandInput): Promise<void> {
  await podOf(input.tenantId).restartBot(input);
}

export async function recordBotSessionEvents(input: RecordBotSessionEventsInput): Promise<{ stored: number }> {
  return storeBotSessionEvents(input);
}
