// Test and benchmark runs keep the local Temporal server between runs: workflows they leave running
// (an owner webhook retrying for a day, a backup started by an example) would load later runs.
import type { Config } from '../core/config.ts';
import { connectTemporalClient } from '../core/temporal/client.ts';

/** Terminates every workflow still running on `taskQueue`; returns how many it terminated. */
export const terminateRunningWorkflows = async (
  temporal: Config['temporal'],
  taskQueue: string,
  reason: string,
): Promise<number> => {
  const client = await connectTemporalClient(temporal);
  try {
    let terminated = 0;
    for await (const run of client.workflow.list({ query: `ExecutionStatus = 'Running' AND TaskQueue = '${taskQueue}'` })) {
      // One that ended on its own meanwhile is fine.
      await client.workflow.getHandle(run.workflowId, run.runId).terminate(reason).then(() => terminated++, () => undefined);
    }
    return terminated;
  } finally {
    await client.connection.close();
  }
};
