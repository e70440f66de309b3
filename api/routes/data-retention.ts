// The retention dry run of a tenant: what its next retention run would delete now (see
// docs/data-retention.md). Read under the tenant's RLS: another tenant's id answers 404.
import { z } from 'zod';
import { previewRetention } from '../../core/data-retention/expired-rows.ts';
import type { ApiDeps } from '../deps.ts';
import type { Registry } from '../route.ts';
import { tenantParams } from './schemas.ts';

const preview = z.object({
  /** Null when the tenant sets no retentionDays: nothing is ever deleted. */
  retentionDays: z.number().int().nullable(),
  cutoff: z.string().nullable(),
  /** `objects`: the media objects of those messages, in the bucket. */
  wouldDelete: z.object({ messages: z.number().int(), leads: z.number().int(), objects: z.number().int() }),
});

export const registerDataRetentionRoutes = (registry: Registry, deps: ApiDeps) => {
  registry.add({
    method: 'get', path: '/tenants/:tenantId/retention/preview',
    summary: 'Dry run of data retention: messages (with their media objects) and stale leads the next run would delete (nothing is deleted)',
    tag: 'data-retention', access: 'any', params: tenantParams, response: preview,
  }, async ({ params }) => {
    const plan = await deps.withTenant(params.tenantId, (tx) => previewRetention(tx, params.tenantId));
    return plan === null
      ? { retentionDays: null, cutoff: null, wouldDelete: { messages: 0, leads: 0, objects: 0 } }
      : { retentionDays: plan.retentionDays, cutoff: plan.cutoff, wouldDelete: { messages: plan.messages, leads: plan.leads, objects: plan.objects } };
  });
};
