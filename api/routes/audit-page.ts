// One page of the readable audit trail: audit_logs (who did what, with details) and data_change_audit
// (row images written by triggers) merged newest first under one keyset. A change reads as the action
// `<table>.<operation>` (`leads.update`), so one action filter covers both. Each side is ordered and
// limited by its own index before the merge, so a page costs two short index scans.
import { sql, type CommonQueryMethods, type FragmentSqlToken } from 'slonik';
import { z } from 'zod';
import { redactSecrets } from '../../core/audit/redact.ts';
import { storableText } from '../../core/text-patterns.ts';
import { keysetPage, olderThan, timeMicros } from './keyset-page.ts';
import { cursorSchema } from './schemas.ts';

const ACTION_PREFIX = /^[a-z][a-z0-9_.-]{0,99}$/;
const TABLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** A time Postgres can compare (it refuses year 0, which ISO 8601 allows); the trail starts long after 1970. */
const auditTime = z.iso.datetime({ offset: true })
  .refine((value) => { const year = new Date(value).getUTCFullYear(); return year >= 1970 && year <= 9999; }, 'a time between 1970 and 9999');

export const auditFilters = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: cursorSchema.optional(),
  actor: storableText({ min: 1, max: 200 }).optional(),
  action: z.string().regex(ACTION_PREFIX, 'an action or its beginning, such as lead. or leads.update').optional()
    .describe('action prefix: `schedule.` matches every schedule action; a row change reads as `<table>.<insert|update|delete>`'),
  table: z.string().regex(TABLE_NAME, 'a table name such as leads').optional().describe('only row changes of this table'),
  recordId: z.uuid().optional().describe('row changes of this record, and actions whose details name it'),
  from: auditTime.optional().describe('at or after (inclusive)'),
  to: auditTime.optional().describe('before (exclusive)'),
}).refine((query) => !query.from || !query.to || Date.parse(query.from) <= Date.parse(query.to), { message: 'from must not be after to', path: ['from'] });
export type AuditFilters = z.output<typeof auditFilters>;

const json = z.record(z.string(), z.unknown()).nullable();
export const auditEntry = z.object({
  id: z.uuid(),
  source: z.enum(['audit_logs', 'data_change_audit']),
  tenantId: z.uuid().nullable().describe('null for a platform action (backup, restore, retention)'),
  at: z.string(),
  actor: z.string(),
  action: z.string(),
  table: z.string().nullable(),
  recordId: z.uuid().nullable(),
  operation: z.enum(['INSERT', 'UPDATE', 'DELETE']).nullable(),
  details: json.describe('of an action; secrets shown as [redacted]'),
  before: json.describe('the row before a change; secrets shown as [redacted]'),
  after: json.describe('the row after a change; secrets shown as [redacted]'),
});
export const auditPage = z.object({ items: z.array(auditEntry), nextCursor: z.string().nullable() });

const entryRow = z.object({
  id: z.uuid(), source: z.enum(['audit_logs', 'data_change_audit']), tenant_id: z.uuid().nullable(), at: z.number(), actor: z.string(),
  action: z.string(), table_name: z.string().nullable(), record_id: z.uuid().nullable(), operation: z.enum(['INSERT', 'UPDATE', 'DELETE']).nullable(),
  details: json, old_values: json, new_values: json, created_us: z.string(),
});
const toEntry = (row: z.infer<typeof entryRow>) => ({
  id: row.id, source: row.source, tenantId: row.tenant_id, at: new Date(row.at).toISOString(), actor: row.actor, action: row.action,
  table: row.table_name, recordId: row.record_id, operation: row.operation,
  details: redactSecrets(row.details), before: redactSecrets(row.old_values), after: redactSecrets(row.new_values),
});

const all = (conditions: readonly FragmentSqlToken[]) =>
  conditions.length ? sql.fragment`WHERE ${sql.join(conditions, sql.fragment` AND `)}` : sql.fragment``;

/** The conditions both sides share, on their own time column: tenant, time range, cursor. */
const shared = (filters: AuditFilters, tenantId: string | null, time: string) => {
  const column = sql.identifier([time]);
  return [
    ...(tenantId ? [sql.fragment`tenant_id = ${tenantId}`] : []),
    // In UTC: Postgres refuses offsets beyond ±15:59, which ISO 8601 allows.
    ...(filters.from ? [sql.fragment`${column} >= ${new Date(filters.from).toISOString()}::timestamptz`] : []),
    ...(filters.to ? [sql.fragment`${column} < ${new Date(filters.to).toISOString()}::timestamptz`] : []),
    ...(filters.cursor ? [olderThan(filters.cursor, time)] : []),
  ];
};

/** `tenantId` null: every tenant's entries and the platform's (for a connection that may read them all). */
export const readAuditPage = async (db: CommonQueryMethods, tenantId: string | null, filters: AuditFilters) => {
  const take = filters.limit + 1;
  const actions = [...shared(filters, tenantId, 'created_at'),
    ...(filters.actor ? [sql.fragment`actor = ${filters.actor}`] : []),
    ...(filters.action ? [sql.fragment`starts_with(action, ${filters.action})`] : []),
    // Actions touch no table row of their own: a table filter asks for row changes alone.
    ...(filters.table ? [sql.fragment`false`] : []),
    ...(filters.recordId ? [sql.fragment`jsonb_path_exists(details, '$.** ? (@ == $id)', jsonb_build_object('id', ${filters.recordId}::text))`] : []),
  ];
  const changes = [...shared(filters, tenantId, 'changed_at'),
    ...(filters.actor ? [sql.fragment`changed_by = ${filters.actor}`] : []),
    ...(filters.action ? [sql.fragment`starts_with(table_name || '.' || lower(operation), ${filters.action})`] : []),
    ...(filters.table ? [sql.fragment`table_name = ${filters.table}`] : []),
    ...(filters.recordId ? [sql.fragment`record_id = ${filters.recordId}`] : []),
  ];
  const rows = await db.any(sql.type(entryRow)`
    SELECT * FROM (
      (SELECT id, 'audit_logs' AS source, tenant_id, created_at AS at, actor, action, NULL::text AS table_name, NULL::uuid AS record_id,
              NULL::text AS operation, details, NULL::jsonb AS old_values, NULL::jsonb AS new_values, ${timeMicros('created_at')}
         FROM audit_logs ${all(actions)} ORDER BY created_at DESC, id DESC LIMIT ${take})
      UNION ALL
      (SELECT id, 'data_change_audit', tenant_id, changed_at, changed_by, table_name || '.' || lower(operation), table_name, record_id,
              operation, NULL::jsonb, old_values, new_values, ${timeMicros('changed_at')}
         FROM data_change_audit ${all(changes)} ORDER BY changed_at DESC, id DESC LIMIT ${take})
    ) entries ORDER BY at DESC, id DESC LIMIT ${take}`);
  return keysetPage(rows, filters.limit, toEntry);
};
