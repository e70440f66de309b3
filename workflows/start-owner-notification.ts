import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ParentClosePolicy, startChild } from '@temporalio/workflow';
import { OWNER_NOTIFICATION_WORKFLOW, ownerNotificationWorkflowId } from '../core/temporal/lead-conversation.ts';

/**
 * Starts the delivery of one owner event as its own workflow, which outlives the caller (it may
 * retry for a day). Its id comes from the event, so a second start of the same event is a no-op.
 */
export const startOwnerNotification = async (tenantId: string, eventId: string): Promise<void> => {
  try {
    await startChild(OWNER_NOTIFICATION_WORKFLOW, {
      workflowId: ownerNotificationWorkflowId(tenantId, eventId),
      args: [{ tenantId, eventId }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
};
