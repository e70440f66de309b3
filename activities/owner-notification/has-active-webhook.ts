import { sql } from 'slonik';

/**
 * True when the tenant has a webhook that an owner event would go to. Without one, an owner
 * notification workflow would start only to find nothing to deliver: a child start, two workflow
 * tasks and an activity per qualified lead (docs/owner-notification.md#only-with-a-webhook).
 */
export const hasActiveWebhook = (tenantId: string) => sql.fragment`
  EXISTS (SELECT 1 FROM owner_webhooks WHERE tenant_id = ${tenantId} AND active)`;
