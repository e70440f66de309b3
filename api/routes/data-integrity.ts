// Data integrity for platform admins, under the seeds' paths: the state of the platform run, the
// latest report with its findings and fixes, a run now (joins the running one), and approving or
// undoing fixes by id.
import { WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { sql } from 'slonik';
import { z } from 'zod';
import { FIX_CLASSES, SEVERITIES } from '../../core/data-integrity/check.ts';
import { dataQualityReport } from '../../core/data-integrity/data-quality.ts';
import { failureReason } from '../../core/temporal/failure-reason.ts';
import {
  APPROVE_FIXES_SIGNAL, FIX_STATUSES, integrityApprovalsWorkflowId, integrityUndoWorkflowId, integrityWorkflowId, type ApproveFixesSignal,
} from '../../core/temporal/data-integrity.ts';
import type { undoIntegrityFix } from '../../workflows/data-integrity.ts';
import { readDataQuality, readLatestDataQuality, registerDataQualityGauges } from '../data-quality-figures.ts';
import type { ApiDeps } from '../deps.ts';
import type { ApiMetrics } from '../metrics.ts';
import { HttpProblem } from '../problem.ts';
import type { Registry } from '../route.ts';
import { createWorkflowStarter, startedWorkflow } from '../start-workflow.ts';
import { isWorkflowRunning } from '../workflow-state.ts';
import { registerDataIntegrityHealthRoutes } from './data-integrity-health.ts';
import { registerDataIntegrityHistoryRoutes } from './data-integrity-history.ts';
import { registerDataIntegrityTenantRoutes } from './data-integrity-tenant.ts';

const PLATFORM = 'platform';
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

const runRow = z.object({ id: z.uuid(), scope: z.string(), workflow_id: z.string(), started_at: z.number(), checks: z.record(z.string(), z.unknown()) });
const findingRow = z.object({
  id: z.uuid(), check_name: z.string(), severity: z.enum(SEVERITIES), finding_key: z.string(), tenant_id: z.uuid().nullable(), summary: z.string(),
  details: z.record(z.string(), z.unknown()), fix_id: z.uuid().nullable(), fix_class: z.enum(FIX_CLASSES).nullable(), fix_status: z.enum(FIX_STATUSES).nullable(),
  approved_by: z.string().nullable(), applied_at: z.number().nullable(), verified_at: z.number().nullable(), undone_at: z.number().nullable(),
  failure: z.string().nullable(),
});

const fixView = z.object({
  id: z.uuid(), class: z.enum(FIX_CLASSES), status: z.enum(FIX_STATUSES), approvedBy: z.string().nullable(),
  appliedAt: z.string().nullable(), verifiedAt: z.string().nullable(), undoneAt: z.string().nullable(), failure: z.string().nullable(),
});
const findingView = z.object({
  id: z.uuid(), check: z.string(), severity: z.enum(SEVERITIES), key: z.string(), tenantId: z.uuid().nullable(), summary: z.string(),
  details: z.record(z.string(), z.unknown()), fix: fixView.nullable(),
});
const report = z.object({
  runId: z.uuid(), scope: z.string(), workflowId: z.string(), startedAt: z.string(),
  /** Per check: durationMs, findings, truncated. */
  checks: z.record(z.string(), z.unknown()),
  findings: z.array(findingView),
  /** E-mail completeness and phone validity per tenant at the run, beside the targets: figures, not findings. */
  dataQuality: dataQualityReport,
});
const status = z.object({
  workflowId: z.string(),
  running: z.boolean(),
  latestRun: z.object({
    runId: z.uuid(), startedAt: z.string(), findings: z.number(),
    bySeverity: z.object({ critical: z.number(), warning: z.number(), info: z.number() }),
    awaitingApproval: z.number(),
  }).nullable(),
});

const fixIds = z.array(z.uuid()).min(1).max(100);
const fixRow = z.object({ id: z.uuid(), class: z.enum(FIX_CLASSES), status: z.enum(FIX_STATUSES), run_id: z.uuid() });

export const registerDataIntegrityRoutes = (registry: Registry, deps: ApiDeps, metrics: ApiMetrics) => {
  const start = createWorkflowStarter(deps, metrics);
  registerDataIntegrityHealthRoutes(registry, deps, metrics);
  registerDataIntegrityHistoryRoutes(registry, deps);
  registerDataIntegrityTenantRoutes(registry, deps, metrics);
  // Findings and fixes are platform data: read with the maintenance role, for platform admins only.
  const db = deps.pools.maintenance;
  registerDataQualityGauges(metrics.registry, () => readLatestDataQuality(db));
  const latestRun = () => db.maybeOne(sql.type(runRow)`
    SELECT id, scope, workflow_id, started_at, checks FROM integrity_runs WHERE scope = ${PLATFORM} ORDER BY started_at DESC, id DESC LIMIT 1`);
  const findingsOf = (runId: string) => db.any(sql.type(findingRow)`
    SELECT f.id, f.check_name, f.severity, f.finding_key, f.affected_tenant_id AS tenant_id, f.summary, f.details,
           x.id AS fix_id, x.class AS fix_class, x.status AS fix_status, x.approved_by, x.applied_at, x.verified_at, x.undone_at, x.failure
      FROM integrity_findings f JOIN integrity_runs r ON r.id = f.run_id
      -- The newest fix of this defect in the scope: its own, or the approval fix of an earlier run still waiting.
      LEFT JOIN LATERAL (
        SELECT x.* FROM integrity_fixes x JOIN integrity_findings f2 ON f2.id = x.finding_id JOIN integrity_runs r2 ON r2.id = f2.run_id
         WHERE r2.scope = r.scope AND f2.check_name = f.check_name AND f2.finding_key = f.finding_key
         ORDER BY x.planned_at DESC, x.id DESC LIMIT 1) x ON true
     WHERE f.run_id = ${runId} ORDER BY f.check_name, f.finding_key`);
  const knownFixes = async (ids: readonly string[]) => {
    const rows = await db.any(sql.type(fixRow)`
      SELECT x.id, x.class, x.status, f.run_id FROM integrity_fixes x
        JOIN integrity_findings f ON f.id = x.finding_id
       WHERE x.id = ANY(${sql.array([...ids], 'uuid')})`);
    const unknown = ids.filter((id) => !rows.some((row) => row.id === id));
    if (unknown.length > 0) throw new HttpProblem(404, 'Not found', `no such fix: ${unknown.join(', ')}`);
    return rows;
  };

  registry.add({
    method: 'get', path: '/data-integrity/status', summary: 'Whether the platform integrity run is running, and the latest run in figures',
    tag: 'data-integrity', access: 'platform-admin', response: status,
  }, async () => {
    const run = await latestRun();
    const findings = run === null ? [] : await findingsOf(run.id);
    const count = (severity: (typeof SEVERITIES)[number]) => findings.filter((finding) => finding.severity === severity).length;
    return {
      workflowId: integrityWorkflowId(PLATFORM),
      running: await isWorkflowRunning(await deps.temporal(), integrityWorkflowId(PLATFORM)),
      latestRun: run === null ? null : {
        runId: run.id, startedAt: iso(run.started_at)!, findings: findings.length,
        bySeverity: { critical: count('critical'), warning: count('warning'), info: count('info') },
        awaitingApproval: findings.filter((finding) => finding.fix_class === 'approval' && finding.fix_status === 'planned').length,
      },
    };
  });

  registry.add({
    method: 'get', path: '/data-integrity/report', summary: 'The latest platform integrity run with its findings and their fixes',
    tag: 'data-integrity', access: 'platform-admin', response: report,
  }, async () => {
    const run = await latestRun();
    if (run === null) throw new HttpProblem(404, 'Not found', 'no integrity run yet: start one with POST /api/v1/data-integrity/run-checks');
    return {
      runId: run.id, scope: run.scope, workflowId: run.workflow_id, startedAt: iso(run.started_at)!, checks: run.checks,
      findings: (await findingsOf(run.id)).map((row) => ({
        id: row.id, check: row.check_name, severity: row.severity, key: row.finding_key, tenantId: row.tenant_id, summary: row.summary, details: row.details,
        fix: row.fix_id === null ? null : {
          id: row.fix_id, class: row.fix_class!, status: row.fix_status!, approvedBy: row.approved_by,
          appliedAt: iso(row.applied_at), verifiedAt: iso(row.verified_at), undoneAt: iso(row.undone_at), failure: row.failure,
        },
      })),
      dataQuality: await readDataQuality(db, run.id),
    };
  });

  registry.add({
    method: 'post', path: '/data-integrity/run-checks', summary: 'Run every check on the platform now (workflow integrity/platform; a running run is returned)',
    tag: 'data-integrity', access: 'platform-admin', status: 202, response: startedWorkflow,
  }, async () => start('dataIntegrityRun', integrityWorkflowId(PLATFORM), [{ scope: PLATFORM, approvalTimeoutMs: deps.config.integrity.approvalTimeoutMs }]));

  registry.add({
    method: 'post', path: '/data-integrity/fix-issues', summary: 'Approve planned fixes (applied by integrity-approvals/<runId>), or undo applied fixes, by fix id',
    tag: 'data-integrity', access: 'platform-admin',
    body: z.union([z.strictObject({ approve: fixIds }), z.strictObject({ undo: fixIds })]),
    response: z.object({ approved: z.array(z.uuid()).optional(), undone: z.array(z.uuid()).optional() }),
  }, async ({ body, principal }) => {
    const actor = `api:${principal.tokenId}`;
    const client = await deps.temporal();
    if ('approve' in body) {
      const fixes = await knownFixes(body.approve);
      const notPlanned = fixes.filter((fix) => fix.class !== 'approval' || fix.status !== 'planned');
      if (notPlanned.length > 0) {
        throw new HttpProblem(409, 'Not awaiting approval', notPlanned.map((fix) => `fix ${fix.id} is a ${fix.class} fix, ${fix.status}`).join('; '));
      }
      for (const runId of new Set(fixes.map((fix) => fix.run_id))) {
        const signal: ApproveFixesSignal = { fixIds: fixes.filter((fix) => fix.run_id === runId).map((fix) => fix.id), approvedBy: actor };
        const workflowId = integrityApprovalsWorkflowId(runId);
        await client.workflow.getHandle(workflowId).signal(APPROVE_FIXES_SIGNAL, signal).catch((error: unknown) => {
          if (error instanceof WorkflowNotFoundError) throw new HttpProblem(409, 'Not awaiting approval', `${workflowId}, where these fixes waited, has ended`);
          throw error;
        });
      }
      return { approved: body.approve };
    }
    await knownFixes(body.undo);
    for (const fixId of body.undo) {
      await client.workflow.execute<typeof undoIntegrityFix>('undoIntegrityFix', {
        workflowId: integrityUndoWorkflowId(fixId), taskQueue: deps.config.temporal.taskQueue, args: [{ fixId, actor }],
      }).catch((error: unknown) => {
        if (error instanceof WorkflowFailedError) throw new HttpProblem(409, 'Not undoable', failureReason(error));
        throw error;
      });
    }
    return { undone: body.undo };
  });
};
