// An owner webhook's delivery log (every attempt: what the receiver answered, when Temporal retries),
// and a test delivery: one signed `webhook.test` event sent by the worker (the process allowed to
// reach owners' endpoints), answered with the receiver's status code and latency.
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { sql } from 'slonik';
import { z } from 'zod';
import { failureReason } from '../../core/temporal/failure-reason.ts';
import { OWNER_WEBHOOK_TEST_WORKFLOW, ownerWebhookTestWorkflowId } from '../../core/temporal/owner-notification.ts';
import { tenantSearchAttributes } from '../../core/temporal/search-attributes.ts';
import type * as workflows from '../../workflows/index.ts';
import type { ApiDeps } from '../deps.ts';
import { HttpProblem } from '../problem.ts';
import type { Registry } from '../route.ts';
import { keysetPage, olderThan, timeMicros } from './keyset-page.ts';
import { auditOwnerWebhook, webhookParams } from './owner-webhooks.ts';
import { cursorSchema } from './schemas.ts';

const OUTCOMES = ['delivered', 'retrying', 'failed'] as const;
const delivery = z.object({
  id: z.uuid(), eventId: z.uuid(), eventType: z.string(), attempt: z.number().int(), attemptedAt: z.string(),
  statusCode: z.number().int().nullable(), latencyMs: z.number().int(), error: z.string().nullable(), outcome: z.enum(OUTCOMES),
  nextRetryAt: z.string().nullable().describe('When Temporal tries this event again; null once delivered or given up'),
});
const deliveryRow = z.object({
  id: z.uuid(), event_id: z.uuid(), event_type: z.string(), attempt: z.number(), attempted_at: z.number(), status_code: z.number().nullable(),
  latency_ms: z.number(), error: z.string().nullable(), outcome: z.enum(OUTCOMES), next_retry_at: z.number().nullable(), created_us: z.string(),
});
const toDelivery = (row: z.infer<typeof deliveryRow>) => ({
  id: row.id, eventId: row.event_id, eventType: row.event_type, attempt: row.attempt, attemptedAt: new Date(row.attempted_at).toISOString(),
  statusCode: row.status_code, latencyMs: row.latency_ms, error: row.error, outcome: row.outcome,
  nextRetryAt: row.next_retry_at === null ? null : new Date(row.next_retry_at).toISOString(),
});

export const registerOwnerWebhookDeliveryRoutes = (registry: Registry, deps: ApiDeps, shared: { path: string; tag: string; notFound: () => HttpProblem }) => {
  const { path, tag, notFound } = shared;
  const requireWebhook = (tenantId: string, webhookId: string) => deps.withTenant(tenantId, async (tx) => {
    if (!await tx.exists(sql.unsafe`SELECT 1 FROM owner_webhooks WHERE tenant_id = ${tenantId} AND id = ${webhookId}`)) throw notFound();
  });

  registry.add({
    method: 'get', path: `${path}/:webhookId/deliveries`, summary: 'An owner webhook\'s delivery attempts, newest first', tag, access: 'any',
    params: webhookParams,
    query: z.strictObject({ limit: z.coerce.number().int().min(1).max(100).default(50), cursor: cursorSchema.optional() }),
    response: z.object({ items: z.array(delivery), nextCursor: z.string().nullable() }),
  }, async ({ params, query }) => {
    const { tenantId, webhookId } = params;
    const rows = await deps.withTenant(tenantId, async (tx) => {
      if (!await tx.exists(sql.unsafe`SELECT 1 FROM owner_webhooks WHERE tenant_id = ${tenantId} AND id = ${webhookId}`)) throw notFound();
      return tx.any(sql.type(deliveryRow)`
        SELECT id, event_id, event_type, attempt, attempted_at, status_code, latency_ms, error, outcome, next_retry_at, ${timeMicros('attempted_at')}
          FROM owner_webhook_deliveries
         WHERE tenant_id = ${tenantId} AND webhook_id = ${webhookId} ${query.cursor ? sql.fragment`AND ${olderThan(query.cursor, 'attempted_at')}` : sql.fragment``}
         ORDER BY attempted_at DESC, id DESC LIMIT ${query.limit + 1}`);
    });
    return keysetPage(rows, query.limit, toDelivery);
  });

  registry.add({
    method: 'post', path: `${path}/:webhookId/test`,
    summary: 'Send one signed webhook.test event now (also to a disabled webhook), answering the receiver\'s status code and latency', tag,
    access: 'any', params: webhookParams,
    response: z.object({
      eventId: z.uuid(), delivered: z.boolean().describe('The receiver answered 2xx'), statusCode: z.number().int().nullable(),
      latencyMs: z.number().int(), error: z.string().nullable().describe('Why it was not delivered: the status, a refused target, no answer'),
    }),
    problems: { 502: 'The test delivery could not be made (the worker did not finish it in time, the secret does not open), with the reason' },
  }, async ({ principal, params }) => {
    const { tenantId, webhookId } = params;
    await requireWebhook(tenantId, webhookId);
    const eventId = randomUUID();
    const client = await deps.temporal();
    // Temporal away fails the start: a 503 (the problem handler). A worker that runs late, or a secret that does not open: a 502 with the reason.
    const result = await client.workflow.execute<typeof workflows.testOwnerWebhook>(OWNER_WEBHOOK_TEST_WORKFLOW, {
      workflowId: ownerWebhookTestWorkflowId(tenantId, webhookId, eventId), taskQueue: deps.config.temporal.taskQueue,
      args: [{ tenantId, webhookId, eventId }], workflowExecutionTimeout: deps.config.conversation.ownerWebhookTimeoutMs + 15_000,
      typedSearchAttributes: tenantSearchAttributes({ tenantId }),
    }).catch((error: unknown) => {
      if (error instanceof WorkflowFailedError) throw new HttpProblem(502, 'Test delivery failed', failureReason(error));
      throw error;
    });
    if (!result) throw notFound();
    const actor = `api:${principal.tokenId}`;
    await deps.withTenant(tenantId, (tx) => auditOwnerWebhook(tx, tenantId, actor, 'owner_webhook.tested', {
      webhookId, eventId, delivered: result.delivered, statusCode: result.statusCode,
    }), { actor });
    return { eventId, ...result };
  });
};
