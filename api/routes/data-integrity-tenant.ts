// The data-integrity view of one tenant, for its tenant token (and platform admins): the runs that
// covered it (platform runs and its own `integrity/tenant-<uuid>`) showing only its own findings and
// fixes, never a platform-level one nor another tenant's; and a run of its own scope. Another
// tenant's id, run or finding answers 404 (the route's tenant check and the readers' filters).
import { sql } from 'slonik';
import { z } from 'zod';
import { scopeName } from '../../core/data-integrity/scope.ts';
import { integrityWorkflowId } from '../../core/temporal/data-integrity.ts';
import { tenantSearchAttributes } from '../../core/temporal/search-attributes.ts';
import { createHistoryReader, historyFinding, runDetail, runPage } from '../data-integrity-history.ts';
import type { ApiDeps } from '../deps.ts';
import type { ApiMetrics } from '../metrics.ts';
import { HttpProblem } from '../problem.ts';
import type { Registry } from '../route.ts';
import { createWorkflowStarter, startedWorkflow } from '../start-workflow.ts';
import { isWorkflowRunning } from '../workflow-state.ts';
import { pageQuery } from './data-integrity-history.ts';
import { tenantParams } from './schemas.ts';

const BASE = '/data-integrity/tenants/:tenantId';
const status = z.object({
  scope: z.string(), workflowId: z.string(), running: z.boolean(),
  /** The newest run that covered the tenant, in the tenant's own figures. */
  latestRun: z.object({
    runId: z.uuid(), scope: z.string(), startedAt: z.string(), findings: z.number(),
    bySeverity: z.object({ critical: z.number(), warning: z.number(), info: z.number() }),
  }).nullable(),
  /** The tenant's fixes of class `approval` waiting for a platform admin's approval. */
  awaitingApproval: z.number(),
});
const count = z.object({ count: z.number() });

export const registerDataIntegrityTenantRoutes = (registry: Registry, deps: ApiDeps, metrics: ApiMetrics) => {
  const db = deps.pools.maintenance;
  const history = createHistoryReader(db);
  const start = createWorkflowStarter(deps, metrics);
  const notFound = (what: string) => new HttpProblem(404, 'Not found', `no such ${what}`);

  registry.add({
    method: 'get', path: `${BASE}/status`, summary: 'The tenant\'s integrity: whether its own run is running, the latest run that covered it, fixes awaiting approval',
    tag: 'data-integrity', access: 'any', params: tenantParams, response: status,
  }, async ({ params }) => {
    const scope = scopeName({ tenantId: params.tenantId.toLowerCase() });
    const latest = await history.run(params.tenantId, null);
    return {
      scope, workflowId: integrityWorkflowId(scope), running: await isWorkflowRunning(await deps.temporal(), integrityWorkflowId(scope)),
      latestRun: latest === null ? null : {
        runId: latest.id, scope: latest.scope, startedAt: latest.startedAt, findings: latest.findings.length, bySeverity: latest.bySeverity,
      },
      awaitingApproval: await db.oneFirst(sql.type(count)`
        SELECT count(*)::int AS count FROM integrity_fixes x JOIN integrity_findings f ON f.id = x.finding_id
         WHERE f.affected_tenant_id = ${params.tenantId} AND x.class = 'approval' AND x.status = 'planned'`),
    };
  });

  registry.add({
    method: 'get', path: `${BASE}/report`, summary: 'The latest integrity run that covered the tenant, with the tenant\'s findings and their fixes',
    tag: 'data-integrity', access: 'any', params: tenantParams, response: runDetail,
  }, async ({ params }) => {
    const run = await history.run(params.tenantId, null);
    if (run === null) throw new HttpProblem(404, 'Not found', `no integrity run yet: start one with POST /api/v1${BASE.replace(':tenantId', params.tenantId)}/run-checks`);
    return run;
  });

  registry.add({
    method: 'get', path: `${BASE}/runs`, summary: 'The integrity runs that covered the tenant, newest first (paginated), in the tenant\'s own figures',
    tag: 'data-integrity', access: 'any', params: tenantParams, query: z.strictObject(pageQuery), response: runPage,
  }, async ({ params, query }) => history.page(params.tenantId, query));

  registry.add({
    method: 'get', path: `${BASE}/runs/:runId`, summary: 'One integrity run that covered the tenant, with the tenant\'s findings, fixes and undos',
    tag: 'data-integrity', access: 'any', params: tenantParams.extend({ runId: z.uuid() }), response: runDetail,
  }, async ({ params }) => {
    const run = await history.run(params.tenantId, params.runId);
    if (run === null) throw notFound('integrity run');
    return run;
  });

  registry.add({
    method: 'get', path: `${BASE}/findings/:findingId`, summary: 'One of the tenant\'s integrity findings, with its fix',
    tag: 'data-integrity', access: 'any', params: tenantParams.extend({ findingId: z.uuid() }), response: historyFinding,
  }, async ({ params }) => {
    const finding = await history.finding(params.tenantId, params.findingId);
    if (finding === null) throw notFound('integrity finding');
    return finding;
  });

  registry.add({
    method: 'post', path: `${BASE}/run-checks`, summary: 'Run the checks on the tenant now (workflow integrity/tenant-<uuid>; a running run is returned)',
    tag: 'data-integrity', access: 'any', params: tenantParams, status: 202, response: startedWorkflow,
  }, async ({ params }) => {
    if (!await db.exists(sql.unsafe`SELECT 1 FROM tenants WHERE id = ${params.tenantId}`)) throw notFound('tenant');
    const scope = scopeName({ tenantId: params.tenantId.toLowerCase() });
    return start('dataIntegrityRun', integrityWorkflowId(scope), [{ scope, approvalTimeoutMs: deps.config.integrity.approvalTimeoutMs }],
      tenantSearchAttributes({ tenantId: params.tenantId }));
  });
};
