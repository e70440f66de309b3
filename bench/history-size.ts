// History size per message: what each message costs the Temporal server to store and each worker
// to replay after a cache eviction. Summed over every run of a sample of workflows (continued-as-new
// runs included), divided by the messages those workflows handled. The same histories tell how long
// activity and workflow tasks waited for a worker (schedule to start).
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { BenchMessage, Target } from './load.ts';

export type HistorySize = {
  readonly workflows: number; readonly messages: number; readonly eventsPerMessage: number; readonly bytesPerMessage: number;
  /** Median wait of an activity task (sendText, or the floor's no-op) from scheduled to started. */
  readonly activityScheduleToStartP50Ms: number;
  readonly workflowTaskScheduleToStartP50Ms: number;
};

// CommonJS: its namespaces come through the default import.
const { History } = proto.temporal.api.history.v1;
const { EventType } = proto.temporal.api.enums.v1;
type HistoryEvent = proto.temporal.api.history.v1.IHistoryEvent;

export const millisOf = (event: HistoryEvent) => Number(event.eventTime?.seconds ?? 0) * 1000 + (event.eventTime?.nanos ?? 0) / 1e6;

/** Scheduled-to-started waits (ms) of the tasks whose started event names its scheduled event. */
const scheduleToStart = (events: readonly HistoryEvent[], startedType: number, scheduledIdOf: (event: HistoryEvent) => unknown) => {
  const scheduledAt = new Map(events.map((event) => [Number(event.eventId), millisOf(event)]));
  return events.filter((event) => event.eventType === startedType).map((event) => millisOf(event) - scheduledAt.get(Number(scheduledIdOf(event)))!);
};

export const median = (values: number[]) => (values.length === 0 ? 0 : Math.round(values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!));

/**
 * The history of each run of `workflowId` started at or after `startedAfter`: a workflow id may have
 * closed runs of an earlier benchmark.
 */
export async function* runHistories(client: Client, workflowId: string, startedAfter: Date) {
  for await (const run of client.workflow.list({ query: `WorkflowId = '${workflowId}' AND StartTime >= '${startedAfter.toISOString()}'` })) {
    yield await client.workflow.getHandle(workflowId, run.runId).fetchHistory();
  }
}

export const historySizePerMessage = async (
  client: Client, messagesByWorkflowId: ReadonlyMap<string, number>, startedAfter: Date,
): Promise<HistorySize> => {
  let events = 0;
  let bytes = 0;
  let messages = 0;
  const activityWaits: number[] = [];
  const workflowTaskWaits: number[] = [];
  for (const [workflowId, handled] of messagesByWorkflowId) {
    messages += handled;
    for await (const history of runHistories(client, workflowId, startedAfter)) {
      events += history.events?.length ?? 0;
      bytes += History.encode(history).finish().byteLength;
      const all = history.events ?? [];
      activityWaits.push(...scheduleToStart(all, EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED, (event) => event.activityTaskStartedEventAttributes?.scheduledEventId));
      workflowTaskWaits.push(...scheduleToStart(all, EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED, (event) => event.workflowTaskStartedEventAttributes?.scheduledEventId));
    }
  }
  return {
    workflows: messagesByWorkflowId.size,
    messages,
    eventsPerMessage: Number((events / messages).toFixed(1)),
    bytesPerMessage: Math.round(bytes / messages),
    activityScheduleToStartP50Ms: median(activityWaits),
    workflowTaskScheduleToStartP50Ms: median(workflowTaskWaits),
  };
};

/** The history size per message of the first `sample` workflows that `messages` went to, in runs started since `startedAfter`. */
export const historySizeOfRun = async (
  client: Client, target: Target, messages: readonly BenchMessage[], startedAfter: Date, sample = 20,
): Promise<HistorySize> => {
  const messagesByWorkflowId = new Map<string, number>();
  for (const message of messages) {
    const workflowId = target.workflowIdOf(message);
    if (messagesByWorkflowId.has(workflowId) || messagesByWorkflowId.size < sample) messagesByWorkflowId.set(workflowId, (messagesByWorkflowId.get(workflowId) ?? 0) + 1);
  }
  return historySizePerMessage(client, messagesByWorkflowId, startedAfter);
};
