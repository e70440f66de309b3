// The API's side of the enrolment workflow: started after the enrolment row commits, and woken by
// a signal after a status change the API wrote (the row is the truth; a lost signal only delays).
import { WorkflowNotFoundError } from '@temporalio/client';
import { EMAIL_SEQUENCE_SIGNALS, emailSequenceWorkflowId } from '../core/temporal/email-sequences.ts';
import { tenantSearchAttributes } from '../core/temporal/search-attributes.ts';
import type { ApiDeps } from './deps.ts';
import type { ApiMetrics } from './metrics.ts';
import { createWorkflowStarter } from './start-workflow.ts';

export const createEnrollmentWorkflows = (deps: ApiDeps, metrics: ApiMetrics) => {
  const start = createWorkflowStarter(deps, metrics);
  return {
    /** Idempotent by id: a retried start finds the workflow already running. */
    start: (enrollment: { tenantId: string; enrollmentId: string; leadId: string }) => start(
      'emailSequence', emailSequenceWorkflowId(enrollment.tenantId, enrollment.enrollmentId),
      [{ tenantId: enrollment.tenantId, enrollmentId: enrollment.enrollmentId }],
      tenantSearchAttributes({ tenantId: enrollment.tenantId, leadId: enrollment.leadId })),

    wake: (tenantId: string, enrollmentId: string, signal: keyof typeof EMAIL_SEQUENCE_SIGNALS) => wakeEnrollment(deps, tenantId, enrollmentId, signal),
  };
};

/** Best effort: a workflow that has ended needs no wake-up, and one not reached reads its row before its next send. */
export const wakeEnrollment = async (
  deps: Pick<ApiDeps, 'temporal' | 'logger'>, tenantId: string, enrollmentId: string, signal: keyof typeof EMAIL_SEQUENCE_SIGNALS,
): Promise<void> => {
  try {
    await (await deps.temporal()).workflow.getHandle(emailSequenceWorkflowId(tenantId, enrollmentId)).signal(EMAIL_SEQUENCE_SIGNALS[signal]);
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return;
    deps.logger.warn({ err: error, tenantId, enrollmentId, signal }, 'enrolment workflow not signalled: it reads the row before its next send');
  }
};

export type EnrollmentWorkflows = ReturnType<typeof createEnrollmentWorkflows>;
