// The run history of data integrity, read with the maintenance role (the integrity tables are
// platform data): runs newest first, one run with its findings, each finding's fix with its log of
// before-images and its undo, and whether the finding was alerted. Given a tenant, only what is
// about that tenant: the runs that covered it (platform runs and its own), its findings (never a
// platform-level one nor another tenant's), and the log rows of its own tables.
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { FIX_CLASSES, SEVERITIES } from '../core/data-integrity/check.ts';
import { FIX_STATUSES } from '../core/temporal/data-integrity.ts';
import { keysetPage, olderThan } from './routes/keyset-page.ts';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

const bySeverity = z.object({ critical: z.number(), warning: z.number(), info: z.number() });
export const runSummary = z.object({
  id: z.uuid(), scope: z.string(), workflowId: z.string(), startedAt: z.string(), findings: z.number(), bySeverity,
  /** Per check: durationMs, findings, truncated (platform admins only: it counts every tenant's findings). */
  checks: z.record(z.string(), z.unknown()).optional(),
});
const logEntry = z.object({
  position: z.number(), table: z.string(), keyColumn: z.string(), rowKey: z.string(), operation: z.enum(['update', 'delete']),
  columns: z.array(z.string()), beforeImage: z.record(z.string(), z.unknown()),
});
const fix = z.object({
  id: z.uuid(), class: z.enum(FIX_CLASSES), status: z.enum(FIX_STATUSES), plannedAt: z.string(), approvedBy: z.string().nullable(),
  appliedAt: z.string().nullable(), verifiedAt: z.string().nullable(), failure: z.string().nullable(),
  /** The before-image of every row the fix touched, in the order it changed them. */
  log: z.array(logEntry),
  undo: z.object({ undoneAt: z.string(), undoneBy: z.string().nullable() }).nullable(),
});
export const historyFinding = z.object({
  id: z.uuid(), runId: z.uuid(), check: z.string(), severity: z.enum(SEVERITIES), key: z.string(), tenantId: z.uuid().nullable(),
  summary: z.string(), details: z.record(z.string(), z.unknown()),
  /** The fix this run planned for it (a defect whose approval fix still waits from an earlier run gets none). */
  fix: fix.nullable(),
  /** Raised as `integrity.critical_finding` (new and critical), and when the alert webhook accepted it. */
  alert: z.object({ raisedAt: z.string(), webhookDeliveredAt: z.string().nullable() }).nullable(),
});
export const runDetail = runSummary.omit({ findings: true }).extend({ findings: z.array(historyFinding) });
export const runPage = z.object({ items: z.array(runSummary), nextCursor: z.string().nullable() });

const runRow = z.object({
  id: z.uuid(), scope: z.string(), workflow_id: z.string(), started_at: z.number(), checks: z.record(z.string(), z.unknown()),
  critical: z.number(), warning: z.number(), info: z.number(), created_us: z.string(),
});
const findingRow = z.object({
  id: z.uuid(), run_id: z.uuid(), check_name: z.string(), severity: z.enum(SEVERITIES), finding_key: z.string(), tenant_id: z.uuid().nullable(),
  summary: z.string(), details: z.record(z.string(), z.unknown()),
  fix_id: z.uuid().nullable(), fix_class: z.enum(FIX_CLASSES).nullable(), fix_status: z.enum(FIX_STATUSES).nullable(), planned_at: z.number().nullable(),
  approved_by: z.string().nullable(), applied_at: z.number().nullable(), verified_at: z.number().nullable(), undone_at: z.number().nullable(),
  undone_by: z.string().nullable(), failure: z.string().nullable(), alerted_at: z.number().nullable(), delivered_at: z.number().nullable(),
});
const logRow = z.object({
  fix_id: z.uuid(), position: z.number(), table_name: z.string(), key_column: z.string(), row_key: z.string(), operation: z.enum(['update', 'delete']),
  columns: z.array(z.string()), before_image: z.record(z.string(), z.unknown()),
});

/** The tenant's view: its own findings only. */
const aboutTenant = (tenantId: string | null, column: string) =>
  tenantId === null ? sql.fragment`true` : sql.fragment`${sql.identifier(['f', column])} = ${tenantId}`;
/** The runs that covered the tenant: every platform run and the runs of its own scope. */
const coveringRuns = (tenantId: string | null) =>
  tenantId === null ? sql.fragment`true` : sql.fragment`(r.scope = 'platform' OR r.scope_tenant_id = ${tenantId})`;

const toSummary = (row: z.infer<typeof runRow>, tenantId: string | null): z.infer<typeof runSummary> => ({
  id: row.id, scope: row.scope, workflowId: row.workflow_id, startedAt: iso(row.started_at)!,
  findings: row.critical + row.warning + row.info, bySeverity: { critical: row.critical, warning: row.warning, info: row.info },
  ...tenantId === null ? { checks: row.checks } : {},
});

export type HistoryReader = ReturnType<typeof createHistoryReader>;

export const createHistoryReader = (db: DatabasePool) => {
  // The page of runs first, then the counts of just those runs.
  const runs = (tenantId: string | null, conditions: readonly ReturnType<typeof sql.fragment>[], limit: number) => db.any(sql.type(runRow)`
    SELECT r.id, r.scope, r.workflow_id, r.started_at, r.checks, r.created_us, n.critical, n.warning, n.info
      FROM (SELECT * FROM (SELECT id, scope, scope_tenant_id, workflow_id, started_at, checks, started_at AS created_at,
                                  (extract(epoch FROM started_at) * 1000000)::bigint::text AS created_us FROM integrity_runs) r
             WHERE ${sql.join(conditions, sql.fragment` AND `)}
             ORDER BY created_at DESC, id DESC LIMIT ${limit}) r
     CROSS JOIN LATERAL (
       SELECT count(*) FILTER (WHERE severity = 'critical')::int AS critical, count(*) FILTER (WHERE severity = 'warning')::int AS warning,
              count(*) FILTER (WHERE severity = 'info')::int AS info
         FROM integrity_findings f WHERE f.run_id = r.id AND ${aboutTenant(tenantId, 'affected_tenant_id')}) n
     ORDER BY r.created_at DESC, r.id DESC`);

  const findings = async (tenantId: string | null, where: ReturnType<typeof sql.fragment>) => {
    const rows = await db.any(sql.type(findingRow)`
      SELECT f.id, f.run_id, f.check_name, f.severity, f.finding_key, f.affected_tenant_id AS tenant_id, f.summary, f.details,
             x.id AS fix_id, x.class AS fix_class, x.status AS fix_status, x.planned_at, x.approved_by, x.applied_at, x.verified_at,
             x.undone_at, x.undone_by, x.failure, a.created_at AS alerted_at, d.delivered_at
        FROM integrity_findings f
        LEFT JOIN integrity_fixes x ON x.finding_id = f.id
        LEFT JOIN LATERAL (SELECT e.created_at FROM platform_events e
                            WHERE e.kind = 'integrity.critical_finding' AND e.payload ->> 'findingId' = f.id::text LIMIT 1) a ON true
        LEFT JOIN integrity_alert_deliveries d ON d.finding_id = f.id
       WHERE ${where} AND ${aboutTenant(tenantId, 'affected_tenant_id')}
       ORDER BY f.check_name, f.finding_key`);
    const fixIds = rows.flatMap((row) => (row.fix_id === null ? [] : [row.fix_id]));
    const log = fixIds.length === 0 ? [] : await db.any(sql.type(logRow)`
      SELECT fix_id, position, table_name, key_column, row_key, operation, columns, before_image FROM integrity_fix_log
       WHERE fix_id = ANY(${sql.array(fixIds, 'uuid')})
         ${tenantId === null ? sql.fragment`` : sql.fragment`AND (before_image ->> 'tenant_id')::uuid = ${tenantId}`}
       ORDER BY fix_id, position`);
    return rows.map((row): z.infer<typeof historyFinding> => ({
      id: row.id, runId: row.run_id, check: row.check_name, severity: row.severity, key: row.finding_key, tenantId: row.tenant_id,
      summary: row.summary, details: row.details,
      fix: row.fix_id === null ? null : {
        id: row.fix_id, class: row.fix_class!, status: row.fix_status!, plannedAt: iso(row.planned_at)!, approvedBy: row.approved_by,
        appliedAt: iso(row.applied_at), verifiedAt: iso(row.verified_at), failure: row.failure,
        log: log.filter((entry) => entry.fix_id === row.fix_id).map((entry) => ({
          position: entry.position, table: entry.table_name, keyColumn: entry.key_column, rowKey: entry.row_key, operation: entry.operation,
          columns: entry.columns, beforeImage: entry.before_image,
        })),
        undo: row.undone_at === null ? null : { undoneAt: iso(row.undone_at)!, undoneBy: row.undone_by },
      },
      alert: row.alerted_at === null ? null : { raisedAt: iso(row.alerted_at)!, webhookDeliveredAt: iso(row.delivered_at) },
    }));
  };

  return {
    /** Newest first, by keyset; optionally one scope. */
    async page(tenantId: string | null, query: { limit: number; cursor?: { micros: string; id: string }; scope?: string }) {
      const conditions = [coveringRuns(tenantId)];
      if (query.scope !== undefined) conditions.push(sql.fragment`r.scope = ${query.scope}`);
      if (query.cursor) conditions.push(olderThan(query.cursor));
      return keysetPage(await runs(tenantId, conditions, query.limit + 1), query.limit, (row) => toSummary(row, tenantId));
    },
    /** One run with its findings; null when there is none the tenant may see. */
    async run(tenantId: string | null, runId: string | null): Promise<z.infer<typeof runDetail> | null> {
      const [row] = await runs(tenantId, [coveringRuns(tenantId), ...runId === null ? [] : [sql.fragment`r.id = ${runId}`]], 1);
      if (row === undefined) return null;
      return { ...toSummary(row, tenantId), findings: await findings(tenantId, sql.fragment`f.run_id = ${row.id}`) };
    },
    /** One finding the tenant may see, or null. */
    async finding(tenantId: string | null, findingId: string) {
      const [found] = await findings(tenantId, sql.fragment`f.id = ${findingId}`);
      return found ?? null;
    },
  };
};
