// Contract of the owner notification: one workflow per owner event, delivering it to the tenant's webhooks.
export const OWNER_NOTIFICATION_WORKFLOW = 'ownerNotification';

export type OwnerNotificationInput = { readonly tenantId: string; readonly eventId: string };

/** Owner notification of one lead event: the id makes a second start of the same delivery a no-op. */
export const ownerNotificationWorkflowId = (tenantId: string, eventId: string): string => `owner-notification/${tenantId}/${eventId}`;
