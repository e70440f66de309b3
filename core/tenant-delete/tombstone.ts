// What stays of a deleted tenant (table tenant_tombstones, migration 033): its id, its slug, a hash
// of its name (it may be a person's name), the counts of what was deleted, the session snapshot
// kept, who asked and when. Written by the maintenance role; platform admins read it.
import { createHash } from 'node:crypto';
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';

/** Where a deleted tenant's last session snapshot is kept: outside `tenants/`, so the delete leaves it. */
export const TOMBSTONES_PREFIX = 'tenant-tombstones/';
export const tombstoneSnapshotKey = (tenantId: string, snapshotKey: string): string =>
  `${TOMBSTONES_PREFIX}${tenantId}/${snapshotKey.split('/').at(-1)}`;

export const nameHash = (name: string): string => createHash('sha256').update(name, 'utf8').digest('hex');

export const tenantTombstone = z.object({
  tenantId: z.uuid(),
  slug: z.string(),
  nameHash: z.string(),
  counts: z.object({
    rows: z.record(z.string(), z.number()),
    objects: z.object({ count: z.number(), bytes: z.number() }).optional(),
    schedulesDeleted: z.number(),
    workflowsTerminated: z.number(),
  }),
  sessionSnapshot: z.record(z.string(), z.unknown()),
  deletedBy: z.string(),
  requestedAt: z.string(),
  rowsDeletedAt: z.string(),
  completedAt: z.string().nullable(),
});
export type TenantTombstone = z.infer<typeof tenantTombstone>;

const tombstoneRow = z.object({
  tenantId: z.uuid(), slug: z.string(), nameHash: z.string(), counts: tenantTombstone.shape.counts,
  sessionSnapshot: z.record(z.string(), z.unknown()), deletedBy: z.string(),
  requestedAt: z.number(), rowsDeletedAt: z.number(), completedAt: z.number().nullable(),
});

export const readTombstone = async (db: CommonQueryMethods, tenantId: string): Promise<TenantTombstone | null> => {
  const row = await db.maybeOne(sql.type(tombstoneRow)`
    SELECT id AS "tenantId", slug, name_hash AS "nameHash", counts, session_snapshot AS "sessionSnapshot", deleted_by AS "deletedBy",
           requested_at AS "requestedAt", rows_deleted_at AS "rowsDeletedAt", completed_at AS "completedAt"
      FROM tenant_tombstones WHERE id = ${tenantId}`);
  if (row === null) return null;
  const iso = (ms: number) => new Date(ms).toISOString();
  return { ...row, requestedAt: iso(row.requestedAt), rowsDeletedAt: iso(row.rowsDeletedAt), completedAt: row.completedAt === null ? null : iso(row.completedAt) };
};
