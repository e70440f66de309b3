// Tenant delete (platform admins): a dry run that reports everything the delete would remove and
// removes nothing, the delete itself as the workflow tenant-delete/<tenantId>, and its status with
// the tombstone it leaves (docs/tenant-delete.md).
import { sql } from 'slonik';
import { z } from 'zod';
import { tenantSearchAttributes } from '../../core/temporal/search-attributes.ts';
import { tenantDeleteWorkflowId } from '../../core/temporal/tenant-delete.ts';
import { listTenantObjects, listTenantRunningWorkflows, listTenantSchedules } from '../../core/tenant-delete/outside-holdings.ts';
import { countTenantRows } from '../../core/tenant-delete/tenant-tables.ts';
import { readTombstone, tenantTombstone } from '../../core/tenant-delete/tombstone.ts';
import type { ApiDeps } from '../deps.ts';
import type { ApiMetrics } from '../metrics.ts';
import { HttpProblem } from '../problem.ts';
import type { Registry } from '../route.ts';
import { createWorkflowStarter } from '../start-workflow.ts';
import { readWorkflowState } from '../workflow-state.ts';
import { tenantParams } from './schemas.ts';

const dryRunReport = z.object({
  dryRun: z.literal(true),
  tenantId: z.uuid(),
  rows: z.record(z.string(), z.number().int()),
  objects: z.object({ count: z.number().int(), bytes: z.number().int() }),
  schedules: z.array(z.string()),
  runningWorkflows: z.array(z.object({ workflowId: z.string(), type: z.string() })),
});
const deleteAccepted = z.object({
  dryRun: z.literal(false), workflowId: z.string(), runId: z.string(), alreadyStarted: z.boolean(), statusPath: z.string(),
});
const deletionStatus = z.object({
  workflowId: z.string(), status: z.string().nullable(), failure: z.string().optional(), tombstone: tenantTombstone.nullable(),
});

export const registerTenantDeleteRoutes = (registry: Registry, deps: ApiDeps, metrics: ApiMetrics) => {
  const start = createWorkflowStarter(deps, metrics);
  const storage = { s3: deps.s3, bucket: deps.config.s3.bucket };
  const statusPath = (tenantId: string) => `/api/v1/tenants/${tenantId}/deletion`;

  registry.add({
    method: 'delete', path: '/tenants/:tenantId',
    summary: 'Delete a tenant: with dryRun=true, report every row, object, Schedule and running workflow it would remove (200); without, start the delete workflow (202)',
    tag: 'tenants', access: 'platform-admin', params: tenantParams,
    query: z.strictObject({ dryRun: z.enum(['true', 'false']).default('false') }),
    status: 202, alternateStatus: { status: 200, when: (query) => query.dryRun === 'true' },
    response: z.discriminatedUnion('dryRun', [dryRunReport, deleteAccepted]),
  }, async ({ params, query, principal }) => {
    const { tenantId } = params;
    // The maintenance role (BYPASSRLS) reads every table of the tenant, audit and integrity records too.
    const rows = await countTenantRows(deps.pools.maintenance, tenantId);
    if (rows.tenants === undefined) throw new HttpProblem(404, 'Not found', `no tenant ${tenantId} (a deleted one is described at ${statusPath(tenantId)})`);
    const actor = `api:${principal.tokenId}`;
    if (query.dryRun === 'true') {
      const temporal = await deps.temporal();
      const [objects, schedules, running] = await Promise.all([
        listTenantObjects(storage, tenantId), listTenantSchedules(temporal, tenantId), listTenantRunningWorkflows(temporal, tenantId),
      ]);
      return {
        dryRun: true as const, tenantId, rows,
        objects: { count: objects.length, bytes: objects.reduce((sum, object) => sum + object.bytes, 0) },
        schedules, runningWorkflows: running.map(({ workflowId, type }) => ({ workflowId, type })),
      };
    }
    const started = await start('deleteTenant', tenantDeleteWorkflowId(tenantId), [{ tenantId, requestedBy: actor, requestedAt: new Date().toISOString() }],
      tenantSearchAttributes({ tenantId }));
    // A platform action (tenant NULL): the tenant's own audit rows go with it.
    await deps.pools.maintenance.query(sql.unsafe`
      INSERT INTO audit_logs (tenant_id, actor, action, details)
      VALUES (NULL, ${actor}, 'tenant.delete-requested', ${sql.jsonb({ tenantId, workflowId: started.workflowId, alreadyStarted: started.alreadyStarted })})`);
    return { dryRun: false as const, ...started, statusPath: statusPath(tenantId) };
  });

  registry.add({
    method: 'get', path: '/tenants/:tenantId/deletion',
    summary: 'Status of a tenant delete: its workflow\'s state (and failure), and the tombstone once the rows are gone',
    tag: 'tenants', access: 'platform-admin', params: tenantParams, response: deletionStatus,
  }, async ({ params }) => {
    const { tenantId } = params;
    const workflowId = tenantDeleteWorkflowId(tenantId);
    const tombstone = await readTombstone(deps.pools.maintenance, tenantId);
    const client = await deps.temporal();
    const state = await readWorkflowState(client.workflow.getHandle(workflowId), `no delete of tenant ${tenantId}`).catch((error: unknown) => {
      // History may be gone (namespace retention) while the tombstone stays.
      if (error instanceof HttpProblem && error.status === 404 && tombstone !== null) return null;
      throw error;
    });
    return { workflowId, status: state?.status ?? null, ...(state?.outcome.failure === undefined ? {} : { failure: state.outcome.failure }), tombstone };
  });
};
