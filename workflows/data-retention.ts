// Retention: the Schedule `retention-daily` starts `dailyRetention`, which runs one child
// `retention/<tenantId>` per tenant with a retention period, one tenant after another (the load of
// a run stays that of one small batch at a time).
import { continueAsNew, executeChild, patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { DataRetentionActivities } from '../activities/data-retention/index.ts';
import { NON_RETRYABLE_PLATFORM_ERRORS } from '../core/temporal/retry.ts';
import { RETENTION_HISTORY_EVENTS, retentionWorkflowId, type RetentionPreview, type TenantRetentionInput } from '../core/temporal/data-retention.ts';

const retention = proxyActivities<DataRetentionActivities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE_PLATFORM_ERRORS },
});

/**
 * `retention/<tenantId>`: deletes in batches until none is left at the cutoff fixed at the start, then
 * audits the counts. A backlog of millions of rows continues as new, carrying the cutoff and counts.
 */
export async function tenantRetention(input: TenantRetentionInput): Promise<RetentionPreview | null> {
  const plan = input.carried ?? await retention.previewRetention(input);
  if (plan === null) return null;
  const deleted = input.carried === undefined ? { messages: 0, leads: 0, objects: 0 }
    : { messages: input.carried.messages, leads: input.carried.leads, objects: input.carried.objects };
  for (;;) {
    const batch = await retention.deleteRetentionBatch({ tenantId: input.tenantId, cutoff: plan.cutoff });
    deleted.messages += batch.messages;
    deleted.leads += batch.leads;
    deleted.objects += batch.objects;
    if (batch.messages === 0 && batch.leads === 0) break;
    const historyFull = workflowInfo().historyLength > (input.historyEventsLimit ?? RETENTION_HISTORY_EVENTS) || workflowInfo().continueAsNewSuggested;
    // Runs recorded before runs continued replay without it.
    if (historyFull && patched('retention-continues-as-new')) {
      await continueAsNew<typeof tenantRetention>({ ...input, carried: { retentionDays: plan.retentionDays, cutoff: plan.cutoff, ...deleted } });
    }
  }
  const run = { retentionDays: plan.retentionDays, cutoff: plan.cutoff, ...deleted };
  await retention.recordRetention({ tenantId: input.tenantId, ...run });
  return run;
}

// A backlog of operational logs takes many batches: alive while it heartbeats.
const operationalLogs = proxyActivities<DataRetentionActivities>({
  startToCloseTimeout: '1 hour', heartbeatTimeout: '1 minute',
  retry: { maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE_PLATFORM_ERRORS },
});

type DailyRetentionResult = {
  tenants: number;
  failed: string[];
  operationalLogsPruned?: Awaited<ReturnType<DataRetentionActivities['pruneOperationalLogs']>>;
};

/**
 * What `retention-daily` starts: every tenant's run, one tenant's failure not stopping the others',
 * then the operational logs of every tenant.
 */
export async function dailyRetention(): Promise<DailyRetentionResult> {
  const tenants = await retention.retentionTenants();
  const failed: string[] = [];
  for (const tenantId of tenants) {
    try {
      await executeChild(tenantRetention, { workflowId: retentionWorkflowId(tenantId), args: [{ tenantId }] });
    } catch {
      failed.push(tenantId);
    }
  }
  // Runs recorded before operational logs were pruned replay without it.
  if (!patched('retention-operational-logs')) return { tenants: tenants.length, failed };
  return { tenants: tenants.length, failed, operationalLogsPruned: await operationalLogs.pruneOperationalLogs() };
}
