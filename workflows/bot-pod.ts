import { proxyActivities } from '@temporalio/workflow';
import {
  botPodTaskQueue, type BotPodActivities, type BotStatus, type SessionSnapshot, type SnapshotSessionsInput,
} from '../core/temporal/bot-pod.ts';

const podActivities = (tenantId: string) => proxyActivities<BotPodActivities>({
  taskQueue: botPodTaskQueue(tenantId),
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', maximumAttempts: 10 },
});

/** Snapshots a tenant's WhatsApp sessions through its bot pod (the only process that holds them). */
export async function snapshotTenantSessions(input: SnapshotSessionsInput): Promise<SessionSnapshot> {
  return podActivities(input.tenantId).snapshotSessions(input);
}

/** Restores a snapshot onto a tenant's bot pod whose volume has no sessions yet. */
export async function restoreTenantSessions(input: SnapshotSessionsInput): Promise<{ files: number }> {
  return podActivities(input.tenantId).restoreSessions(input);
}

/** The connection state (and pairing QR) of a tenant's bots, read from its pod; fails fast when no pod answers. */
export async function readBotStatus(input: { tenantId: string; botId?: string }): Promise<readonly BotStatus[]> {
  const { botStatus } = proxyActivities<BotPodActivities>({
    taskQueue: botPodTaskQueue(input.tenantId),
    scheduleToStartTimeout: '3 seconds',
    startToCloseTimeout: '5 seconds',
    retry: { maximumAttempts: 1 },
  });
  return botStatus(input);
}
