// Starting a platform workflow from the API: a start that collides with the same workflow id
// (a retried request) answers with the workflow already running instead of a second one.
import { WorkflowExecutionAlreadyStartedError, type WorkflowStartOptions } from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import { z } from 'zod';
import type * as workflows from '../workflows/index.ts';
import type { ApiDeps } from './deps.ts';
import type { ApiMetrics } from './metrics.ts';

export const startedWorkflow = z.object({ workflowId: z.string(), runId: z.string(), alreadyStarted: z.boolean() });

export const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{8,100}$/;

/** A retried request with the same key finds the workflow it already started. */
export const idempotencyHeaders = z.object({
  'idempotency-key': z.string().regex(IDEMPOTENCY_KEY, 'send an Idempotency-Key of 8 to 100 of A-Z a-z 0-9 . _ : -'),
});

type Workflows = typeof workflows;

/**
 * Typed by the worker's own workflows: a renamed workflow or a wrong argument fails `tsc`, not a request.
 * A tenant-scoped workflow passes its `tenantSearchAttributes`; one whose progress the API reads from
 * its memo passes the first value, so the memo is there before the run's first workflow task.
 */
export const createWorkflowStarter = (deps: ApiDeps, metrics: ApiMetrics) =>
  async <Name extends keyof Workflows>(
    workflowType: Name, workflowId: string, args: Parameters<Workflows[Name]>, typedSearchAttributes: SearchAttributePair[] = [],
    memo?: Record<string, unknown>,
  ): Promise<z.infer<typeof startedWorkflow>> => {
    const client = await deps.temporal();
    try {
      // The SDK's conditional `args` type does not resolve for a generic workflow; `args` is typed above.
      const options = { workflowId, taskQueue: deps.config.temporal.taskQueue, args, typedSearchAttributes, memo } as WorkflowStartOptions<Workflows[Name]>;
      const handle = await client.workflow.start<Workflows[Name]>(workflowType, options);
      metrics.workflowStarts.inc({ workflow: workflowType, outcome: 'started' });
      return { workflowId, runId: handle.firstExecutionRunId, alreadyStarted: false };
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      metrics.workflowStarts.inc({ workflow: workflowType, outcome: 'already_started' });
      const description = await client.workflow.getHandle(workflowId).describe();
      return { workflowId, runId: description.runId, alreadyStarted: true };
    }
  };
