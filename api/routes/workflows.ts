// Workflows started from the API. Each start takes an Idempotency-Key header: the key is part of
// the workflow id, so a retried request finds the workflow it already started instead of a second
// one. A status endpoint reads any of a tenant's workflows by id.
import { sql } from 'slonik';
import { z } from 'zod';
import { sessionSnapshotKey } from '../../core/object-keys.ts';
import { tenantSearchAttributes } from '../../core/temporal/search-attributes.ts';
import type { ApiDeps } from '../deps.ts';
import type { ApiMetrics } from '../metrics.ts';
import { HttpProblem } from '../problem.ts';
import type { Registry } from '../route.ts';
import { createWorkflowStarter, IDEMPOTENCY_KEY, idempotencyHeaders, startedWorkflow } from '../start-workflow.ts';
import { readWorkflowState } from '../workflow-state.ts';
import { requireBot } from './require-bot.ts';
import { botParams, tenantParams } from './schemas.ts';

const started = startedWorkflow;

/** Every workflow the API starts for a tenant has an id under this prefix; the status route reads only those. */
const apiWorkflowId = (tenantId: string, kind: string, key: string) => `api/${tenantId}/${kind}/${key}`;

export const registerWorkflowRoutes = (registry: Registry, deps: ApiDeps, metrics: ApiMetrics) => {
  const start = createWorkflowStarter(deps, metrics);

  registry.add({
    method: 'post', path: '/tenants/:tenantId/bots/:botId/qualification-threshold', summary: 'Change a bot\'s qualification threshold (workflow)',
    tag: 'workflows', access: 'any', params: botParams, headers: idempotencyHeaders, status: 202,
    body: z.strictObject({ threshold: z.number().int().min(0).max(1000) }), response: started,
  }, async ({ params, body, principal, headers }) => {
    const { tenantId } = params;
    const key = headers['idempotency-key']!;
    await deps.withTenant(tenantId, (tx) => requireBot(tx, tenantId, params.botId));
    return start('changeQualificationThreshold', apiWorkflowId(tenantId, 'threshold', key), [
      { tenantId, botId: params.botId, threshold: body.threshold, actor: `api:${principal.tokenId}` },
    ], tenantSearchAttributes({ tenantId, botId: params.botId }));
  });

  registry.add({
    method: 'post', path: '/tenants/:tenantId/session-snapshots', summary: 'Snapshot the tenant\'s WhatsApp sessions to S3 (workflow)',
    tag: 'workflows', access: 'platform-admin', params: tenantParams, headers: idempotencyHeaders, status: 202, response: started,
  }, async ({ params, headers }) => {
    const key = headers['idempotency-key']!;
    const tenantExists = await deps.withTenant(params.tenantId, (tx) => tx.exists(sql.unsafe`SELECT 1 FROM tenants WHERE id = ${params.tenantId}`));
    if (!tenantExists) throw new HttpProblem(404, 'Not found', 'no such tenant');
    return start('snapshotTenantSessions', apiWorkflowId(params.tenantId, 'session-snapshot', key), [
      { tenantId: params.tenantId, objectKey: sessionSnapshotKey(params.tenantId, new Date().toISOString()) },
    ], tenantSearchAttributes({ tenantId: params.tenantId }));
  });

  registry.add({
    method: 'get', path: '/tenants/:tenantId/workflows/:workflowKind/:key', summary: 'Status of a workflow the API started', tag: 'workflows', access: 'any',
    params: z.strictObject({ tenantId: z.uuid(), workflowKind: z.enum(['threshold', 'session-snapshot']), key: z.string().regex(IDEMPOTENCY_KEY) }),
    response: z.object({ workflowId: z.string(), status: z.string(), startTime: z.string(), closeTime: z.string().nullable(), result: z.unknown().optional(), failure: z.string().optional() }),
  }, async ({ params }) => {
    const { tenantId } = params;
    const workflowId = apiWorkflowId(tenantId, params.workflowKind, params.key);
    const { description, status, outcome } = await readWorkflowState((await deps.temporal()).workflow.getHandle(workflowId), 'no such workflow');
    return { workflowId, status, startTime: description.startTime.toISOString(), closeTime: description.closeTime?.toISOString() ?? null, ...outcome };
  });
};
