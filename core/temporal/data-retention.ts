// The retention workflows' contract: ids, the Schedule, and what their activities return.
import type { RetentionCounts, RetentionCutoff } from '../data-retention/expired-rows.ts';

export const RETENTION_DAILY_SCHEDULE_ID = 'retention-daily';

/** One run per tenant at a time. */
export const retentionWorkflowId = (tenantId: string) => `retention/${tenantId}`;

export type TenantRetentionInput = { readonly tenantId: string };
export type RetentionBatchInput = { readonly tenantId: string; readonly cutoff: string };
export type RetentionPreview = RetentionCutoff & RetentionCounts;
export type { RetentionCounts, RetentionCutoff };
