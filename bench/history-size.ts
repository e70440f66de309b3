// History size per message: what each message costs the Temporal server to store and each worker
// to replay after a cache eviction. Summed over every run of a sample of workflows (continued-as-new
// runs included), divided by the messages those workflows handled.
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { BenchMessage, Target } from './load.ts';

export type HistorySize = { readonly workflows: number; readonly messages: number; readonly eventsPerMessage: number; readonly bytesPerMessage: number };

// CommonJS: its namespaces come through the default import.
const { History } = proto.temporal.api.history.v1;

export const historySizePerMessage = async (client: Client, messagesByWorkflowId: ReadonlyMap<string, number>): Promise<HistorySize> => {
  let events = 0;
  let bytes = 0;
  let messages = 0;
  for (const [workflowId, handled] of messagesByWorkflowId) {
    messages += handled;
    for await (const run of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
      const history = await client.workflow.getHandle(workflowId, run.runId).fetchHistory();
      events += history.events?.length ?? 0;
      bytes += History.encode(history).finish().byteLength;
    }
  }
  return {
    workflows: messagesByWorkflowId.size,
    messages,
    eventsPerMessage: Number((events / messages).toFixed(1)),
    bytesPerMessage: Math.round(bytes / messages),
  };
};

/** The history size per message of the first `sample` workflows that `messages` went to. */
export const historySizeOfRun = async (client: Client, target: Target, messages: readonly BenchMessage[], sample = 20): Promise<HistorySize> => {
  const messagesByWorkflowId = new Map<string, number>();
  for (const message of messages) {
    const workflowId = target.workflowIdOf(message);
    if (messagesByWorkflowId.has(workflowId) || messagesByWorkflowId.size < sample) messagesByWorkflowId.set(workflowId, (messagesByWorkflowId.get(workflowId) ?? 0) + 1);
  }
  return historySizePerMessage(client, messagesByWorkflowId);
};
