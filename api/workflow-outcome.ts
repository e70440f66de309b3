// What a status route tells about a workflow the API started: its result once it completed, the
// reason once it failed, nothing while it runs.
import type { WorkflowHandle } from '@temporalio/client';
import { failureReason } from '../core/temporal/failure-reason.ts';

export type WorkflowOutcome = { result?: unknown; failure?: string };

export const workflowOutcome = async (handle: WorkflowHandle, status: string): Promise<WorkflowOutcome> => {
  if (status === 'COMPLETED') return { result: await handle.result() };
  if (status === 'FAILED') return { failure: await handle.result().then(() => '', (error: unknown) => failureReason(error)) };
  return {};
};
