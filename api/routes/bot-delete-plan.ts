// Everything a bot delete removes: the bot's rows in every table, its leads with all that hangs on
// them, and the objects those rows name (catalog images, message media). Counted for the dry run and
// deleted in one transaction; the objects go after the commit (the caller's job).
import { sql, type FragmentSqlToken } from 'slonik';
import { z } from 'zod';
import type { TenantTransaction } from '../../core/db/with-tenant.ts';

const ofBot = (botId: string) => sql.fragment`bot_id = ${botId}`;
const ofLeads = (tenantId: string, botId: string) => sql.fragment`lead_id IN (SELECT id FROM leads WHERE tenant_id = ${tenantId} AND bot_id = ${botId})`;

/** Each table the delete reaches and its rows of the bot; foreign keys cascade in the same way (migrations 002-026). */
const BOT_ROWS: Readonly<Record<string, (tenantId: string, botId: string) => FragmentSqlToken>> = {
  bots: (_tenantId, botId) => sql.fragment`id = ${botId}`,
  bot_features: (_tenantId, botId) => ofBot(botId),
  bot_images: (_tenantId, botId) => ofBot(botId),
  products: (_tenantId, botId) => ofBot(botId),
  scoring_rules: (_tenantId, botId) => ofBot(botId),
  schedules: (_tenantId, botId) => ofBot(botId),
  schedule_follow_ups: (_tenantId, botId) => ofBot(botId),
  dead_letters: (_tenantId, botId) => ofBot(botId),
  lead_identity_pairings: (_tenantId, botId) => ofBot(botId),
  leads: (_tenantId, botId) => ofBot(botId),
  lead_messages: (_tenantId, botId) => ofBot(botId),
  lead_stage_events: ofLeads,
  lead_events: ofLeads,
  email_enrollments: ofLeads,
  email_deliveries: (tenantId, botId) => sql.fragment`enrollment_id IN (SELECT id FROM email_enrollments WHERE tenant_id = ${tenantId} AND ${ofLeads(tenantId, botId)})`,
};

export type BotDeletePlan = { readonly rows: Record<string, number>; readonly objectKeys: string[]; readonly scheduleIds: string[] };

const count = z.object({ count: z.number().int() });
const key = z.object({ key: z.string() });
const id = z.object({ id: z.uuid() });

export const planBotDelete = async (tx: TenantTransaction, tenantId: string, botId: string): Promise<BotDeletePlan> => {
  const rows: Record<string, number> = {};
  for (const [table, where] of Object.entries(BOT_ROWS)) {
    rows[table] = await tx.oneFirst(sql.type(count)`
      SELECT count(*)::int AS count FROM ${sql.identifier([table])} WHERE tenant_id = ${tenantId} AND ${where(tenantId, botId)}`);
  }
  const objectKeys = [...await tx.anyFirst(sql.type(key)`
    SELECT object_key AS key FROM bot_images WHERE tenant_id = ${tenantId} AND bot_id = ${botId}
    UNION ALL
    SELECT media_object_key FROM lead_messages WHERE tenant_id = ${tenantId} AND bot_id = ${botId} AND media_object_key IS NOT NULL
    ORDER BY 1`)];
  // Each has a Temporal Schedule, deleted by a sync after the commit.
  const scheduleIds = [...await tx.anyFirst(sql.type(id)`SELECT id FROM schedules WHERE tenant_id = ${tenantId} AND bot_id = ${botId} ORDER BY id`)];
  return { rows, objectKeys, scheduleIds };
};

/** Deletes the bot's leads (their messages, events and enrolments cascade), then the bot (its catalog, rules, schedules cascade). */
export const deleteBotRows = async (tx: TenantTransaction, tenantId: string, botId: string): Promise<void> => {
  await tx.query(sql.unsafe`DELETE FROM leads WHERE tenant_id = ${tenantId} AND bot_id = ${botId}`);
  await tx.query(sql.unsafe`DELETE FROM bots WHERE tenant_id = ${tenantId} AND id = ${botId}`);
};
