import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import { ParentClosePolicy, startChild } from '@temporalio/workflow';
import { OWNER_NOTIFICATION_WORKFLOW, ownerNotificationWorkflowId } from '../core/temporal/owner-notification.ts';
import { tenantSearchAttributes } from '../core/temporal/search-attributes.ts';

/**
 * Starts the delivery of one owner event as its own workflow, which outlives the caller (it may
 * retry for a day). Its id comes from the event and a closed id is never reused, so a second start
 * of the same event is a no-op for as long as Temporal retains the first run.
 */
export const startOwnerNotification = async (tenantId: string, eventId: string): Promise<void> => {
  try {
    await startChild(OWNER_NOTIFICATION_WORKFLOW, {
      workflowId: ownerNotificationWorkflowId(tenantId, eventId),
      args: [{ tenantId, eventId }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      // A child does not inherit its parent's search attributes.
      typedSearchAttributes: tenantSearchAttributes({ tenantId }),
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
};
