// What a tenant's retention period (tenants.settings.retentionDays) makes expire: messages older
// than the cutoff, and leads neither qualified nor active since then. The same predicates serve the
// dry run (counts) and the deletion (batches), so a preview never disagrees with what a run deletes.
import { sql, type FragmentSqlToken } from 'slonik';
import { z } from 'zod';
import type { TenantTransaction } from '../db/with-tenant.ts';

export type RetentionCutoff = { readonly retentionDays: number; readonly cutoff: string };
/** Rows deleted, and `objects`: the media objects of the deleted messages (deleted after the rows commit). */
export type RetentionCounts = { readonly messages: number; readonly leads: number; readonly objects: number };
/** A batch's counts and the media keys of the messages it deleted: the caller deletes them once the rows are committed. */
export type RetentionBatch = RetentionCounts & { readonly objectKeys: readonly string[] };

const cutoffRow = z.object({ retentionDays: z.number().int().nullable(), cutoff: z.string().nullable() });
const counts = z.object({ messages: z.number().int(), leads: z.number().int(), objects: z.number().int() });
const deletedMedia = z.object({ key: z.string().nullable() });

/** The tenant's cutoff (now minus its retentionDays), or null when it keeps everything or does not exist. */
export const retentionCutoff = async (tx: TenantTransaction, tenantId: string): Promise<RetentionCutoff | null> => {
  const row = await tx.maybeOne(sql.type(cutoffRow)`
    SELECT (settings ->> 'retentionDays')::int AS "retentionDays",
           to_char((now() - make_interval(days => (settings ->> 'retentionDays')::int)) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cutoff
      FROM tenants WHERE id = ${tenantId}`);
  return !row || row.retentionDays === null || row.cutoff === null ? null : { retentionDays: row.retentionDays, cutoff: row.cutoff };
};

const expiredMessages = (tenantId: string, cutoff: string): FragmentSqlToken =>
  sql.fragment`FROM lead_messages m WHERE m.tenant_id = ${tenantId} AND m.created_at < ${cutoff}::timestamptz`;

// A lead is stale when unqualified and silent since the cutoff; one with a newer message is never
// stale (its cascade would delete messages still inside the period).
const staleLeads = (tenantId: string, cutoff: string): FragmentSqlToken => sql.fragment`
  FROM leads l WHERE l.tenant_id = ${tenantId} AND NOT l.is_qualified
   AND coalesce(l.last_message_at, l.created_at) < ${cutoff}::timestamptz
   AND NOT EXISTS (SELECT 1 FROM lead_messages n
                    WHERE n.tenant_id = l.tenant_id AND n.lead_id = l.id AND n.created_at >= ${cutoff}::timestamptz)`;

/** How many rows a run at `cutoff` deletes (the dry run). */
export const countExpired = (tx: TenantTransaction, tenantId: string, cutoff: string): Promise<RetentionCounts> =>
  tx.one(sql.type(counts)`
    SELECT (SELECT count(*) ${expiredMessages(tenantId, cutoff)})::int AS messages,
           (SELECT count(*) ${staleLeads(tenantId, cutoff)})::int AS leads,
           (SELECT count(m.media_object_key) ${expiredMessages(tenantId, cutoff)})::int AS objects`);

/** The dry run: the cutoff and what a run at it deletes, or null when the tenant keeps everything. */
export const previewRetention = async (tx: TenantTransaction, tenantId: string): Promise<(RetentionCutoff & RetentionCounts) | null> => {
  const cutoff = await retentionCutoff(tx, tenantId);
  return cutoff === null ? null : { ...cutoff, ...await countExpired(tx, tenantId, cutoff.cutoff) };
};

/**
 * Deletes at most `limit` expired messages, then at most `limit` stale leads (their stage history
 * and events go with them by cascade). Small batches keep each transaction's locks short; a run
 * repeats batches until one deletes nothing.
 */
export const deleteExpiredBatch = async (tx: TenantTransaction, tenantId: string, cutoff: string, limit: number): Promise<RetentionBatch> => {
  const messages = await tx.any(sql.type(deletedMedia)`
    DELETE FROM lead_messages WHERE id IN (SELECT m.id ${expiredMessages(tenantId, cutoff)} LIMIT ${limit})
    RETURNING media_object_key AS key`);
  // A stale lead goes once its last message has: the cascade then deletes none, so every message
  // deleted is counted by the statement above and the totals equal the dry run's.
  const leads = await tx.query(sql.unsafe`
    DELETE FROM leads WHERE id IN (
      SELECT l.id ${staleLeads(tenantId, cutoff)}
         AND NOT EXISTS (SELECT 1 FROM lead_messages e WHERE e.tenant_id = l.tenant_id AND e.lead_id = l.id)
       LIMIT ${limit})`);
  const objectKeys = messages.flatMap(({ key }) => (key === null ? [] : [key]));
  return { messages: messages.length, leads: leads.rowCount, objects: objectKeys.length, objectKeys };
};

/** Records what a run deleted: counts only, never the rows' contents. */
export const auditRetention = async (tx: TenantTransaction, tenantId: string, run: RetentionCutoff & RetentionCounts): Promise<void> => {
  await tx.query(sql.unsafe`
    INSERT INTO audit_logs (tenant_id, actor, action, details)
    VALUES (${tenantId}, 'data-retention', 'retention.applied', ${sql.jsonb(run)})`);
};
