// Merges duplicate leads of one bot (one person) into the oldest, inside an integrity fix's
// transaction. Every row it touches is logged first, so an undo restores both leads exactly: the
// rows that pointed at a merged lead (found in the catalogue: every foreign key onto leads, so a
// new child table is moved too, never lost to the cascade), the merged lead (deleted), the kept
// lead (updated) and what the qualification trigger adds when the merged score qualifies it.
import { sql, type DatabaseTransactionConnection } from 'slonik';
import { z } from 'zod';
import type { LogBeforeImage } from '../../core/data-integrity/check.ts';
import { lockIdentifiers } from '../lead-conversation/identity.ts';

const leadRow = z.object({
  id: z.uuid(), botId: z.uuid(), waId: z.string(), phoneE164: z.string().nullable(), lid: z.string().nullable(),
});
const childKey = z.object({ table: z.string(), column: z.string() });
const idRow = z.object({ id: z.uuid() });

/** The kept lead's columns a merge may change (an undo restores exactly these). */
const KEPT_LEAD_COLUMNS = [
  'phone_e164', 'lid', 'name', 'email', 'company', 'score', 'tags', 'is_qualified', 'qualified_at', 'qualified_on_info',
  'owner_user_id', 'assigned_to_user_id', 'pipeline_id', 'stage_id', 'last_message_at',
];
/** Rows the leads_on_qualified trigger writes when the merged score qualifies the kept lead. */
const TRIGGER_WRITTEN = ['lead_events', 'lead_stage_events'] as const;

/** Every column that references leads.id through a foreign key: the rows a merge must move. */
const childKeys = (tx: DatabaseTransactionConnection) => tx.any(sql.type(childKey)`
  SELECT DISTINCT child.relname AS "table", a.attname AS "column"
    FROM pg_constraint c
    JOIN pg_class child ON child.oid = c.conrelid
    CROSS JOIN LATERAL unnest(c.conkey, c.confkey) AS k(child_column, parent_column)
    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.child_column
    JOIN pg_attribute p ON p.attrelid = c.confrelid AND p.attnum = k.parent_column
   WHERE c.contype = 'f' AND c.confrelid = 'public.leads'::regclass AND p.attname = 'id'
   ORDER BY 1, 2`);

const idsOf = (tx: DatabaseTransactionConnection, table: string, column: string, tenantId: string, leadId: string) => tx.anyFirst(sql.type(idRow)`
  SELECT id FROM ${sql.identifier(['public', table])}
   WHERE tenant_id = ${tenantId} AND ${sql.identifier([column])} = ${leadId} ORDER BY id`);

/**
 * The kept lead after the merge. Score: the sum, as each inbound message added its own points
 * under the rules of its day (recomputing from today's rules is the derived-score check's job).
 * Stage: the further along (higher position) when both are in one pipeline, else the kept one's.
 * Identity, details, owner and assignee: the kept lead's, filled in from the merged one's; either
 * lead qualified on its complete details qualifies the kept one too.
 */
const updateKept = (tx: DatabaseTransactionConnection, tenantId: string, keptId: string, mergedImage: unknown) => tx.query(sql.unsafe`
  WITH merged AS (SELECT * FROM jsonb_populate_record(NULL::leads, ${sql.jsonb(JSON.parse(JSON.stringify(mergedImage)))})),
       position_of AS (SELECT id, position FROM pipeline_stages WHERE tenant_id = ${tenantId})
  UPDATE leads AS k SET
    phone_e164 = coalesce(k.phone_e164, m.phone_e164), lid = coalesce(k.lid, m.lid),
    name = coalesce(k.name, m.name), email = coalesce(k.email, m.email), company = coalesce(k.company, m.company),
    score = k.score + m.score,
    qualified_on_info = k.qualified_on_info OR m.qualified_on_info,
    tags = ARRAY(SELECT DISTINCT t FROM unnest(k.tags || m.tags) AS t ORDER BY t),
    owner_user_id = coalesce(k.owner_user_id, m.owner_user_id),
    assigned_to_user_id = coalesce(k.assigned_to_user_id, m.assigned_to_user_id),
    pipeline_id = CASE WHEN k.stage_id IS NULL AND m.stage_id IS NOT NULL AND (k.pipeline_id IS NULL OR k.pipeline_id = m.pipeline_id) THEN m.pipeline_id ELSE k.pipeline_id END,
    stage_id = CASE
      WHEN m.stage_id IS NULL OR (k.pipeline_id IS NOT NULL AND k.pipeline_id IS DISTINCT FROM m.pipeline_id) THEN k.stage_id
      WHEN k.stage_id IS NULL THEN m.stage_id
      WHEN (SELECT position FROM position_of WHERE id = m.stage_id) > (SELECT position FROM position_of WHERE id = k.stage_id) THEN m.stage_id
      ELSE k.stage_id END,
    last_message_at = greatest(k.last_message_at, m.last_message_at)
  FROM merged m
  WHERE k.tenant_id = ${tenantId} AND k.id = ${keptId}`);

const imageOf = (tx: DatabaseTransactionConnection, tenantId: string, leadId: string) => tx.oneFirst(sql.type(z.object({ image: z.record(z.string(), z.unknown()) }))`
  SELECT to_jsonb(l) AS image FROM leads l WHERE tenant_id = ${tenantId} AND id = ${leadId}`);

/** Merges `mergedIds` (each a lead of the kept lead's bot) into `keptId`, in the caller's transaction. */
export const mergeLeads = async (
  tx: DatabaseTransactionConnection, logBeforeImage: LogBeforeImage, tenantId: string, keptId: string, mergedIds: readonly string[],
): Promise<void> => {
  const leads = await tx.any(sql.type(leadRow)`
    SELECT id, bot_id AS "botId", wa_id AS "waId", phone_e164 AS "phoneE164", lid FROM leads
     WHERE tenant_id = ${tenantId} AND id = ANY(${sql.array([keptId, ...mergedIds], 'uuid')})`);
  const kept = leads.find((lead) => lead.id === keptId);
  if (kept === undefined || leads.length !== mergedIds.length + 1 || leads.some((lead) => lead.botId !== kept.botId)) {
    throw new Error(`the leads ${[keptId, ...mergedIds].join(', ')} are no longer leads of one bot: run the checks again`);
  }
  // A message of either person waits for the merge, and finds the kept lead after it.
  await lockIdentifiers(tx, tenantId, kept.botId, leads);
  // Changed since this transaction's snapshot (a message ingested meanwhile): 40001, retried whole.
  await tx.query(sql.unsafe`SELECT 1 FROM leads WHERE tenant_id = ${tenantId} AND id = ANY(${sql.array([keptId, ...mergedIds], 'uuid')}) FOR UPDATE`);
  const children = await childKeys(tx);
  for (const mergedId of mergedIds) {
    for (const { table, column } of children) {
      await logBeforeImage({ table, keyColumn: 'id', key: await idsOf(tx, table, column, tenantId, mergedId), operation: 'update', columns: [column] });
      await tx.query(sql.unsafe`
        UPDATE ${sql.identifier(['public', table])} SET ${sql.identifier([column])} = ${keptId}
         WHERE tenant_id = ${tenantId} AND ${sql.identifier([column])} = ${mergedId}`);
    }
    const mergedImage = await imageOf(tx, tenantId, mergedId);
    await logBeforeImage({ table: 'leads', keyColumn: 'id', key: mergedId, operation: 'delete' });
    // Its lid is unique per bot: it is free for the kept lead once this row is gone.
    await tx.query(sql.unsafe`DELETE FROM leads WHERE tenant_id = ${tenantId} AND id = ${mergedId}`);
    const before = new Map<string, ReadonlySet<string>>();
    for (const table of TRIGGER_WRITTEN) before.set(table, new Set(await idsOf(tx, table, 'lead_id', tenantId, keptId)));
    await logBeforeImage({ table: 'leads', keyColumn: 'id', key: keptId, operation: 'update', columns: KEPT_LEAD_COLUMNS });
    await updateKept(tx, tenantId, keptId, mergedImage);
    for (const table of TRIGGER_WRITTEN) {
      const written = (await idsOf(tx, table, 'lead_id', tenantId, keptId)).filter((id) => !before.get(table)!.has(id));
      await logBeforeImage({ table, keyColumn: 'id', key: written, operation: 'insert' });
    }
  }
};
