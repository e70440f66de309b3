// Retention activities: each is one short transaction of the tenant (RLS applies), so a run is a
// sequence of small batches and never holds a lock for long.
import { Context } from '@temporalio/activity';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { auditRetention, deleteExpiredBatch, previewRetention } from '../../core/data-retention/expired-rows.ts';
import { OPERATIONAL_LOGS, pruneOperationalLogBatch, type OperationalLog } from '../../core/data-retention/operational-logs.ts';
import type { WithTenant } from '../../core/db/with-tenant.ts';
import { deleteObjectKeys, type ObjectStore } from '../../core/delete-objects.ts';
import type { RetentionBatchInput, RetentionCounts, RetentionPreview, TenantRetentionInput } from '../../core/temporal/data-retention.ts';

export type DataRetentionDependencies = {
  readonly withTenant: WithTenant;
  readonly maintenancePool: DatabasePool;
  /** Rows of each kind one batch deletes. */
  readonly batchSize: number;
  /** Where the messages' media objects are. */
  readonly objects: ObjectStore;
  /** Operational logs older than this many days are deleted. */
  readonly operationalLogDays: number;
};

const ACTOR = { actor: 'data-retention' };
const tenantId = z.object({ id: z.uuid() });

export const createDataRetentionActivities = ({ withTenant, maintenancePool, batchSize, objects, operationalLogDays }: DataRetentionDependencies) => ({
  /** Tenants that set a retention period: the daily run starts one child for each. */
  async retentionTenants(): Promise<string[]> {
    return [...await maintenancePool.anyFirst(sql.type(tenantId)`
      SELECT id FROM tenants WHERE settings ? 'retentionDays' ORDER BY id`)];
  },

  /** What a run would delete now (the dry run), or null when the tenant keeps everything. */
  async previewRetention({ tenantId: tenant }: TenantRetentionInput): Promise<RetentionPreview | null> {
    return withTenant(tenant, (tx) => previewRetention(tx, tenant));
  },

  /**
   * One batch: the rows in one transaction, then their media objects, once the rows are committed (a
   * crash in between leaves objects no row claims, which unclaimed-objects reports; never a row
   * whose object is gone).
   */
  async deleteRetentionBatch({ tenantId: tenant, cutoff }: RetentionBatchInput): Promise<RetentionCounts> {
    const { objectKeys, ...counts } = await withTenant(tenant, (tx) => deleteExpiredBatch(tx, tenant, cutoff, batchSize), ACTOR);
    await deleteObjectKeys(objects, objectKeys);
    return counts;
  },

  /** Every tenant's operational logs past their age, batch after batch; how many rows of each went. */
  async pruneOperationalLogs(): Promise<Record<OperationalLog, number>> {
    const pruned = { bot_session_events: 0, owner_webhook_deliveries: 0 };
    for (const log of Object.keys(OPERATIONAL_LOGS) as OperationalLog[]) {
      for (let deleted = batchSize; deleted === batchSize;) {
        deleted = await pruneOperationalLogBatch(maintenancePool, log, operationalLogDays, batchSize);
        pruned[log] += deleted;
        Context.current().heartbeat(pruned);
      }
    }
    return pruned;
  },

  async recordRetention(input: TenantRetentionInput & RetentionPreview): Promise<void> {
    const { tenantId: tenant, ...run } = input;
    await withTenant(tenant, (tx) => auditRetention(tx, tenant, run), ACTOR);
  },
});

export type DataRetentionActivities = ReturnType<typeof createDataRetentionActivities>;
