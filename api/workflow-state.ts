// What a status route tells about a workflow the API started: its description, its result once it
// completed, the reason once it failed (nothing while it runs); 404 when there is no such workflow.
import { WorkflowNotFoundError, type Client, type WorkflowExecutionDescription, type WorkflowHandle } from '@temporalio/client';
import { failureReason } from '../core/temporal/failure-reason.ts';
import { HttpProblem } from './problem.ts';

export type WorkflowState = {
  readonly description: WorkflowExecutionDescription;
  readonly status: string;
  readonly outcome: { result?: unknown; failure?: string };
};

export const readWorkflowState = async (handle: WorkflowHandle, notFoundDetail: string): Promise<WorkflowState> => {
  try {
    const description = await handle.describe();
    const status = description.status.name;
    const outcome = status === 'COMPLETED' ? { result: await handle.result() }
      : status === 'FAILED' ? { failure: await handle.result().then(() => '', (error: unknown) => failureReason(error)) }
        : {};
    return { description, status, outcome };
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw new HttpProblem(404, 'Not found', notFoundDetail);
    throw error;
  }
};

/** Whether a workflow of this id is running now (none at all: not running). */
export const isWorkflowRunning = async (client: Client, workflowId: string): Promise<boolean> => {
  try {
    return (await client.workflow.getHandle(workflowId).describe()).status.name === 'RUNNING';
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
};
