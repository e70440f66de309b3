// Data integrity history for platform admins: every run newest first (optionally of one scope), one
// run with its findings, fixes, their before-image log and undos, and the alerts raised, newest first.
import { sql } from 'slonik';
import { z } from 'zod';
import { SEVERITIES } from '../../core/data-integrity/check.ts';
import { scopeNameSchema } from '../../core/data-integrity/scope.ts';
import { createHistoryReader, runDetail, runPage } from '../data-integrity-history.ts';
import type { ApiDeps } from '../deps.ts';
import { HttpProblem } from '../problem.ts';
import type { Registry } from '../route.ts';
import { CREATED_US, keysetPage, olderThan } from './keyset-page.ts';
import { cursorSchema } from './schemas.ts';

export const pageQuery = { limit: z.coerce.number().int().min(1).max(100).default(20), cursor: cursorSchema.optional() };
export const runParams = z.strictObject({ runId: z.uuid() });

const alert = z.object({
  id: z.uuid(), raisedAt: z.string(), runId: z.uuid(), scope: z.string(),
  finding: z.object({ id: z.uuid(), check: z.string(), severity: z.enum(SEVERITIES), key: z.string(), tenantId: z.uuid().nullable(), summary: z.string() }),
  /** The latest run of the alert's scope still finds this defect (same check and key). */
  open: z.boolean(),
  /** When the alert webhook accepted it (null: not configured, or not yet). */
  webhookDeliveredAt: z.string().nullable(),
});
const alertRow = z.object({
  id: z.uuid(), created_at: z.number(), created_us: z.string(), run_id: z.uuid(), scope: z.string(), finding_id: z.uuid(), check_name: z.string(),
  severity: z.enum(SEVERITIES), finding_key: z.string(), tenant_id: z.uuid().nullable(), summary: z.string(), open: z.boolean(),
  delivered_at: z.number().nullable(),
});
const iso = (ms: number) => new Date(ms).toISOString();

export const registerDataIntegrityHistoryRoutes = (registry: Registry, deps: ApiDeps) => {
  const db = deps.pools.maintenance;
  const history = createHistoryReader(db);

  registry.add({
    method: 'get', path: '/data-integrity/runs', summary: 'Integrity runs of every scope, newest first (paginated)',
    tag: 'data-integrity', access: 'platform-admin', query: z.strictObject({ ...pageQuery, scope: scopeNameSchema.optional() }), response: runPage,
  }, async ({ query }) => history.page(null, query));

  registry.add({
    method: 'get', path: '/data-integrity/runs/:runId', summary: 'One integrity run with its findings, their fixes (with the before-image log) and undos',
    tag: 'data-integrity', access: 'platform-admin', params: runParams, response: runDetail,
  }, async ({ params }) => {
    const run = await history.run(null, params.runId);
    if (run === null) throw new HttpProblem(404, 'Not found', 'no such integrity run');
    return run;
  });

  registry.add({
    method: 'get', path: '/data-integrity/alerts', summary: 'Alerts raised for new critical findings, newest first (paginated), each with its finding and whether it is still open',
    tag: 'data-integrity', access: 'platform-admin', query: z.strictObject(pageQuery),
    response: z.object({ items: z.array(alert), nextCursor: z.string().nullable() }),
  }, async ({ query }) => {
    // The page of alerts first, then whether each is still open: a lookup per listed alert only.
    const rows = await db.any(sql.type(alertRow)`
      SELECT a.*, EXISTS (SELECT 1 FROM integrity_findings o
                           WHERE o.run_id = (SELECT l.id FROM integrity_runs l WHERE l.scope = a.scope ORDER BY l.started_at DESC, l.id DESC LIMIT 1)
                             AND o.check_name = a.check_name AND o.finding_key = a.finding_key) AS open
        FROM (SELECT e.id, e.created_at, e.created_us, f.run_id, r.scope, f.id AS finding_id, f.check_name, f.severity, f.finding_key,
                     f.affected_tenant_id AS tenant_id, f.summary, d.delivered_at
                FROM (SELECT id, created_at, payload, ${CREATED_US} FROM platform_events
                       WHERE kind = 'integrity.critical_finding' ${query.cursor ? sql.fragment`AND ${olderThan(query.cursor)}` : sql.fragment``}) e
                -- An alert whose run was deleted since has no finding left to show.
                JOIN integrity_findings f ON f.id = (e.payload ->> 'findingId')::uuid
                JOIN integrity_runs r ON r.id = f.run_id
                LEFT JOIN integrity_alert_deliveries d ON d.finding_id = f.id
               ORDER BY e.created_at DESC, e.id DESC LIMIT ${query.limit + 1}) a
       ORDER BY a.created_at DESC, a.id DESC`);
    return keysetPage(rows, query.limit, (row) => ({
      id: row.id, raisedAt: iso(row.created_at), runId: row.run_id, scope: row.scope,
      finding: { id: row.finding_id, check: row.check_name, severity: row.severity, key: row.finding_key, tenantId: row.tenant_id, summary: row.summary },
      open: row.open, webhookDeliveredAt: row.delivered_at === null ? null : iso(row.delivered_at),
    }));
  });
};
