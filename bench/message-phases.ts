// Where a paced message's time goes, read from its lead's history: from the signal to the reply's
// scheduling (the first workflow task or tasks: ingest, child starts), the reply's wait for the bot
// pod, the send itself, and from the send's completion to the task that records it. The slowest
// message's phases say what the p99 is made of (docs/lead-conversation.md, "The stall found").
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { median, millisOf, runHistories } from './history-size.ts';
import type { BenchMessage, Target } from './load.ts';

// CommonJS: its namespaces come through the default import.
const { EventType } = proto.temporal.api.enums.v1;
type HistoryEvent = proto.temporal.api.history.v1.IHistoryEvent;
type Payloads = proto.temporal.api.common.v1.IPayloads | null | undefined;

export type MessagePhases = {
  readonly key: string;
  readonly toReplyScheduledMs: number;
  readonly replyScheduleToStartMs: number;
  readonly replySendMs: number;
  readonly toRecordedMs: number;
  readonly totalMs: number;
};

const firstArgument = (payloads: Payloads): Record<string, unknown> | undefined => {
  const data = payloads?.payloads?.[0]?.data;
  return data ? JSON.parse(Buffer.from(data).toString('utf8')) as Record<string, unknown> : undefined;
};
const round = (ms: number) => Math.round(ms);

/** The phases of each message signalled in one run's history whose reply was sent and recorded in it. */
export const messagePhases = (events: readonly HistoryEvent[]): MessagePhases[] => {
  const replyScheduled = new Map<string, HistoryEvent>();
  const byScheduledId = new Map<string, { started?: HistoryEvent; completed?: HistoryEvent }>();
  for (const event of events) {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled?.activityType?.name === 'sendText') {
      const key = firstArgument(scheduled.input)?.idempotencyKey;
      if (typeof key === 'string' && key.startsWith('reply:')) replyScheduled.set(key.slice('reply:'.length), event);
    }
    const started = event.activityTaskStartedEventAttributes?.scheduledEventId;
    if (started != null) byScheduledId.set(String(started), { ...byScheduledId.get(String(started)), started: event });
    const completed = event.activityTaskCompletedEventAttributes?.scheduledEventId;
    if (completed != null) byScheduledId.set(String(completed), { ...byScheduledId.get(String(completed)), completed: event });
  }
  const phases: MessagePhases[] = [];
  for (const signal of events.filter((event) => event.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)) {
    const key = firstArgument(signal.workflowExecutionSignaledEventAttributes?.input)?.waMessageId;
    const scheduled = typeof key === 'string' ? replyScheduled.get(key) : undefined;
    const { started, completed } = scheduled ? byScheduledId.get(String(scheduled.eventId)) ?? {} : {};
    const recorded = completed && events.find((event) => Number(event.eventId) > Number(completed.eventId)
      && event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
    if (typeof key !== 'string' || !scheduled || !started || !completed || !recorded) continue;
    phases.push({
      key,
      toReplyScheduledMs: round(millisOf(scheduled) - millisOf(signal)),
      replyScheduleToStartMs: round(millisOf(started) - millisOf(scheduled)),
      replySendMs: round(millisOf(completed) - millisOf(started)),
      toRecordedMs: round(millisOf(recorded) - millisOf(completed)),
      totalMs: round(millisOf(recorded) - millisOf(signal)),
    });
  }
  return phases;
};

export type PhasesSummary = { readonly messages: number; readonly median: Omit<MessagePhases, 'key'>; readonly slowest: MessagePhases };

export const summarizePhases = (all: readonly MessagePhases[]): PhasesSummary | null => {
  if (all.length === 0) return null;
  const medianOf = (pick: (phases: MessagePhases) => number) => median(all.map(pick));
  return {
    messages: all.length,
    median: {
      toReplyScheduledMs: medianOf((p) => p.toReplyScheduledMs),
      replyScheduleToStartMs: medianOf((p) => p.replyScheduleToStartMs),
      replySendMs: medianOf((p) => p.replySendMs),
      toRecordedMs: medianOf((p) => p.toRecordedMs),
      totalMs: medianOf((p) => p.totalMs),
    },
    slowest: all.reduce((slowest, phases) => (phases.totalMs > slowest.totalMs ? phases : slowest)),
  };
};

/** The phases of `messages` (a paced run), from every run since `startedAfter` of the workflows they went to. */
export const messagePhasesOfRun = async (client: Client, target: Target, messages: readonly BenchMessage[], startedAfter: Date): Promise<PhasesSummary | null> => {
  const keys = new Set(messages.map((message) => message.key));
  const all: MessagePhases[] = [];
  for (const workflowId of new Set(messages.map((message) => target.workflowIdOf(message)))) {
    for await (const history of runHistories(client, workflowId, startedAfter)) {
      all.push(...messagePhases(history.events ?? []).filter((phases) => keys.has(phases.key)));
    }
  }
  return summarizePhases(all);
};
