// Tenant delete activities (workflow tenant-delete/<tenantId>). Each is idempotent: a retry, or a
// second run of the workflow, finds the work done and answers what was recorded.
import { CopyObjectCommand } from '@aws-sdk/client-s3';
import { ScheduleNotFoundError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { isTenantObjectKey } from '../../core/object-keys.ts';
import type { SessionSnapshot } from '../../core/temporal/bot-pod.ts';
import type {
  KeptSessionSnapshot, TenantDeleteInput, TenantObjectsDeleted, TenantRowsDeleted,
} from '../../core/temporal/tenant-delete.ts';
import { listTenantObjects, listTenantRunningWorkflows, listTenantSchedules } from '../../core/tenant-delete/outside-holdings.ts';
import { countTenantRows, tenantTablesChildrenFirst } from '../../core/tenant-delete/tenant-tables.ts';
import { nameHash, readTombstone, tombstoneSnapshotKey } from '../../core/tenant-delete/tombstone.ts';
import { deleteObjectKeys, type ObjectStore } from '../../core/delete-objects.ts';

export type TenantDeleteDependencies = { readonly maintenancePool: DatabasePool; readonly objects: ObjectStore; readonly temporal: Client };

const heartbeat = (details: unknown) => Context.current().heartbeat(details);

const tenantRow = z.object({ slug: z.string(), name: z.string() });

export type DeleteRowsInput = TenantDeleteInput & {
  readonly sessionSnapshot: KeptSessionSnapshot;
  readonly workflowsTerminated: number;
  readonly schedulesDeleted: number;
};

export const createTenantDeleteActivities = ({ maintenancePool, objects, temporal }: TenantDeleteDependencies) => ({
  /** Copies the snapshot just taken out of the tenant's prefix, where the object delete leaves it. */
  async keepTenantSessionSnapshot({ tenantId, snapshot, takenAt }: { tenantId: string; snapshot: SessionSnapshot; takenAt: string }): Promise<KeptSessionSnapshot> {
    if (!isTenantObjectKey(snapshot.objectKey, tenantId)) {
      throw ApplicationFailure.nonRetryable(`snapshot ${snapshot.objectKey} is not under tenant ${tenantId}'s prefix`, 'ForeignObjectKey');
    }
    const objectKey = tombstoneSnapshotKey(tenantId, snapshot.objectKey);
    await objects.s3.send(new CopyObjectCommand({ Bucket: objects.bucket, Key: objectKey, CopySource: `${objects.bucket}/${snapshot.objectKey}` }));
    return { objectKey, files: snapshot.files, bytes: snapshot.bytes, sha256: snapshot.sha256, takenAt };
  },

  /** Terminates the tenant's running workflows but `except` (the delete itself): none may write a row after the delete. */
  async terminateTenantWorkflows({ tenantId, except }: { tenantId: string; except: string }): Promise<number> {
    let terminated = 0;
    for (const workflow of await listTenantRunningWorkflows(temporal, tenantId)) {
      if (workflow.workflowId === except) continue;
      try {
        await temporal.workflow.getHandle(workflow.workflowId, workflow.runId).terminate(`tenant ${tenantId} deleted`);
        terminated += 1;
      } catch (error) {
        if (!(error instanceof WorkflowNotFoundError)) throw error; // ended meanwhile
      }
      heartbeat(terminated);
    }
    return terminated;
  },

  /** Deletes the tenant's Temporal Schedules; one already gone counts as deleted before. */
  async deleteTenantSchedules({ tenantId }: { tenantId: string }): Promise<number> {
    let deleted = 0;
    for (const scheduleId of await listTenantSchedules(temporal, tenantId)) {
      try {
        await temporal.schedule.getHandle(scheduleId).delete();
        deleted += 1;
      } catch (error) {
        if (!(error instanceof ScheduleNotFoundError)) throw error;
      }
      heartbeat(deleted);
    }
    return deleted;
  },

  /**
   * Deletes every row of the tenant (the tenants row, whose cascades take most, then every table with
   * tenant_id: audit and integrity records have no foreign key) and writes the tombstone and a
   * platform audit row, in one transaction. A tenant already deleted answers its tombstone's counts.
   */
  async deleteTenantRows(input: DeleteRowsInput): Promise<TenantRowsDeleted> {
    const { tenantId } = input;
    return maintenancePool.transaction(async (tx) => {
      const tenant = await tx.maybeOne(sql.type(tenantRow)`SELECT slug, name FROM tenants WHERE id = ${tenantId} FOR UPDATE`);
      if (tenant === null) {
        const tombstone = await readTombstone(tx, tenantId);
        if (tombstone === null) throw ApplicationFailure.nonRetryable(`no tenant ${tenantId} and no tombstone of it`, 'TenantNotFound');
        return { tables: tombstone.counts.rows, alreadyGone: true };
      }
      const counted = await countTenantRows(tx, tenantId);
      heartbeat('counted');
      // Children first, the tenants row last: cascades alone would meet NO ACTION keys (leads -> bots).
      // Audit triggers fire on deletes and write rows of the tenant: passes until one deletes nothing.
      const tables = await tenantTablesChildrenFirst(tx);
      const deleteAll = async () => {
        for (let deleted = 1; deleted > 0;) {
          deleted = 0;
          for (const table of tables) {
            deleted += (await tx.query(sql.unsafe`DELETE FROM ${sql.identifier(['public', table])} WHERE tenant_id = ${tenantId}`)).rowCount;
            heartbeat(table);
          }
        }
      };
      await deleteAll();
      await tx.query(sql.unsafe`DELETE FROM tenants WHERE id = ${tenantId}`);
      await deleteAll();
      const counts = { rows: counted, schedulesDeleted: input.schedulesDeleted, workflowsTerminated: input.workflowsTerminated };
      await tx.query(sql.unsafe`
        INSERT INTO tenant_tombstones (id, slug, name_hash, counts, session_snapshot, deleted_by, requested_at)
        VALUES (${tenantId}, ${tenant.slug}, ${nameHash(tenant.name)}, ${sql.jsonb(counts)}, ${sql.jsonb(input.sessionSnapshot as never)},
                ${input.requestedBy}, ${input.requestedAt})`);
      // A platform action (tenant NULL): the tenant's own audit rows are gone with it.
      await tx.query(sql.unsafe`
        INSERT INTO audit_logs (tenant_id, actor, action, details)
        VALUES (NULL, ${input.requestedBy}, 'tenant.deleted', ${sql.jsonb({ tenantId, slug: tenant.slug, counts })})`);
      return { tables: counted, alreadyGone: false };
    });
  },

  /** Deletes every object under the tenant's prefix and completes the tombstone; a completed one answers its counts. */
  async deleteTenantObjects({ tenantId }: { tenantId: string }): Promise<TenantObjectsDeleted> {
    const tombstone = await readTombstone(maintenancePool, tenantId);
    if (tombstone === null) throw ApplicationFailure.nonRetryable(`no tombstone of tenant ${tenantId}: its rows are not deleted yet`, 'TenantNotDeleted');
    if (tombstone.completedAt !== null && tombstone.counts.objects) return tombstone.counts.objects;
    const listed = await listTenantObjects(objects, tenantId, heartbeat);
    for (let start = 0; start < listed.length; start += 1000) {
      await deleteObjectKeys(objects, listed.slice(start, start + 1000).map((object) => object.key));
      heartbeat(start);
    }
    // A retry after a partial delete counts only what was left: objects before it are in no listing.
    const deleted = { count: listed.length, bytes: listed.reduce((sum, object) => sum + object.bytes, 0) };
    await maintenancePool.query(sql.unsafe`
      UPDATE tenant_tombstones SET counts = counts || ${sql.jsonb({ objects: deleted })}, completed_at = now() WHERE id = ${tenantId}`);
    return deleted;
  },
});

export type TenantDeleteActivities = ReturnType<typeof createTenantDeleteActivities>;
