// Data-subject rights (LGPD/GDPR) for one WhatsApp contact or e-mail address of a tenant: the export
// of everything held about them, and their erasure as a workflow (docs/data-subject.md). Tenant
// tokens reach only their own tenant (404 otherwise), and every query runs under its RLS: another
// tenant's contact is never found. Every request is audited without the person's data.
import { randomUUID } from 'node:crypto';
import { sql } from 'slonik';
import { z } from 'zod';
import { dataSubjectExport, exportCounts, exportDataSubject } from '../../core/data-subject/export.ts';
import { erasureRequest, readErasureRequest, recordErasureRequest } from '../../core/data-subject/erasure-requests.ts';
import { dataSubjectBody, dataSubjectOf, newSalt, subjectHash } from '../../core/data-subject/subject.ts';
import { dataSubjectErasureWorkflowId } from '../../core/temporal/data-subject.ts';
import { tenantSearchAttributes } from '../../core/temporal/search-attributes.ts';
import type { ApiDeps } from '../deps.ts';
import type { ApiMetrics } from '../metrics.ts';
import { HttpProblem } from '../problem.ts';
import type { Registry } from '../route.ts';
import { createWorkflowStarter } from '../start-workflow.ts';
import { tenantParams } from './schemas.ts';

const erasureParams = z.strictObject({ tenantId: z.uuid(), requestId: z.uuid() });
const erasureStatus = erasureRequest.omit({ salt: true }).extend({ workflowId: z.string() });
const erasureAccepted = z.object({ requestId: z.uuid(), workflowId: z.string(), status: z.literal('pending'), statusPath: z.string() });

export const registerDataSubjectRoutes = (registry: Registry, deps: ApiDeps, metrics: ApiMetrics) => {
  const start = createWorkflowStarter(deps, metrics);

  registry.add({
    method: 'post', path: '/tenants/:tenantId/data-subjects/export',
    summary: 'Export everything the tenant holds about one WhatsApp contact or e-mail address (one JSON document, versioned)',
    tag: 'data-subject', access: 'any', params: tenantParams, body: dataSubjectBody, response: dataSubjectExport,
  }, async ({ params, body, principal }) => {
    const subject = dataSubjectOf(body);
    const actor = `api:${principal.tokenId}`;
    return deps.withTenant(params.tenantId, async (tx) => {
      const document = await exportDataSubject(tx, params.tenantId, subject);
      const salt = newSalt();
      await tx.query(sql.unsafe`
        INSERT INTO audit_logs (tenant_id, actor, action, details)
        VALUES (${params.tenantId}, ${actor}, 'data-subject.exported',
                ${sql.jsonb({ subjectHash: subjectHash(salt, subject.canonical), salt, counts: exportCounts(document) })})`);
      return document;
    }, { actor });
  });

  registry.add({
    method: 'post', path: '/tenants/:tenantId/data-subjects/erasure',
    summary: 'Erase everything the tenant holds about one WhatsApp contact or e-mail address (workflow; the request is kept without the personal data)',
    tag: 'data-subject', access: 'any', params: tenantParams, body: dataSubjectBody, status: 202, response: erasureAccepted,
  }, async ({ params, body, principal }) => {
    const subject = dataSubjectOf(body);
    const requestId = randomUUID();
    const workflowId = dataSubjectErasureWorkflowId(params.tenantId, requestId);
    // Started before the request commits: a failed start leaves no pending request holding the
    // identifier; a start whose commit then fails ends readably (its first step finds no request).
    await deps.withTenant(params.tenantId, async (tx) => {
      await recordErasureRequest(tx, params.tenantId, { requestId, body, subject, requestedBy: `api:${principal.tokenId}` });
      await start('dataSubjectErasure', workflowId, [{ tenantId: params.tenantId, requestId }], tenantSearchAttributes({ tenantId: params.tenantId }));
    }, { actor: `api:${principal.tokenId}` });
    return { requestId, workflowId, status: 'pending' as const, statusPath: `/api/v1/tenants/${params.tenantId}/data-subjects/erasure/${requestId}` };
  });

  registry.add({
    method: 'get', path: '/tenants/:tenantId/data-subjects/erasure/:requestId',
    summary: 'Status of an erasure request: pending, or completed with the counts per table (never the person\'s identifier)',
    tag: 'data-subject', access: 'any', params: erasureParams, response: erasureStatus,
  }, async ({ params }) => {
    const request = await deps.withTenant(params.tenantId, (tx) => readErasureRequest(tx, params.tenantId, params.requestId));
    if (request === null) throw new HttpProblem(404, 'Not found', `no erasure request ${params.requestId} in this tenant`);
    // The salt stays in the audit log: with the hash alone the answer cannot be matched to a number.
    return erasureStatus.parse({ ...request, workflowId: dataSubjectErasureWorkflowId(params.tenantId, params.requestId) });
  });
};
