import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import { ParentClosePolicy, startChild } from '@temporalio/workflow';
import { EMAIL_SEQUENCE_WORKFLOW, emailSequenceWorkflowId } from '../core/temporal/email-sequences.ts';
import { tenantSearchAttributes } from '../core/temporal/search-attributes.ts';

/**
 * Starts the enrolment written by a qualification as its own workflow, which outlives the lead
 * conversation (it runs for days). Its id is the enrolment's and a closed id is never reused, so a
 * second start (a retried ingest) is a no-op.
 */
export const startEmailSequence = async (tenantId: string, enrollmentId: string, leadId: string): Promise<void> => {
  try {
    await startChild(EMAIL_SEQUENCE_WORKFLOW, {
      workflowId: emailSequenceWorkflowId(tenantId, enrollmentId),
      args: [{ tenantId, enrollmentId }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      typedSearchAttributes: tenantSearchAttributes({ tenantId, leadId }),
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
};
