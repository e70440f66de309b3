// A lead's owner and assignee, and the lead's delete. The delete cascades as the schema says
// (messages, stage history, owner events, email enrolments, follow-ups); the media objects of its
// messages go after the commit. Its conversation workflow is left to end on its own: see docs/api.md.
import { sql } from 'slonik';
import { z } from 'zod';
import { deleteObjectKeys } from '../../core/delete-objects.ts';
import type { TenantTransaction } from '../../core/db/with-tenant.ts';
import { auditResource } from '../audit.ts';
import type { ApiDeps } from '../deps.ts';
import { HttpProblem } from '../problem.ts';
import type { Registry } from '../route.ts';
import { lead, LEAD_COLUMNS, leadRow, toLead } from './leads.ts';
import { leadParams } from './schemas.ts';
import { patchBody, updateAudited } from './update-row.ts';

const deletedCounts = z.object({
  messages: z.number(), stageEvents: z.number(), events: z.number(), emailEnrollments: z.number(), followUps: z.number(), mediaObjects: z.number(),
});

/** An owner or assignee is a user of the lead's tenant: 422 otherwise (another tenant's user included). */
const requireUser = async (tx: TenantTransaction, tenantId: string, userId: string | null | undefined) => {
  if (!userId) return;
  if (!await tx.exists(sql.unsafe`SELECT 1 FROM users WHERE tenant_id = ${tenantId} AND id = ${userId}`)) {
    throw new HttpProblem(422, 'No such user', `user ${userId} is not a user of this tenant`);
  }
};

export const registerLeadChangeRoutes = (registry: Registry, deps: ApiDeps) => {
  registry.add({
    method: 'patch', path: '/tenants/:tenantId/leads/:leadId', summary: 'Set a lead\'s owner and assignee (users of the tenant; null clears)', tag: 'leads',
    access: 'any', params: leadParams,
    body: patchBody({ ownerUserId: z.uuid().nullable(), assignedToUserId: z.uuid().nullable() }),
    response: lead,
  }, async ({ request, params, body }) => {
    const { tenantId, leadId } = params;
    const actor = `api:${request.principal!.tokenId}`;
    const row = await deps.withTenant(tenantId, (tx) => updateAudited(tx, {
      tenantId, actor, action: 'lead.updated', subject: { leadId }, what: 'lead',
      table: 'leads', row: leadRow, columns: LEAD_COLUMNS, where: sql.fragment`tenant_id = ${tenantId} AND id = ${leadId}`,
      body, fieldColumns: { ownerUserId: 'owner_user_id', assignedToUserId: 'assigned_to_user_id' }, view: toLead,
      check: async () => {
        await requireUser(tx, tenantId, body.ownerUserId);
        await requireUser(tx, tenantId, body.assignedToUserId);
      },
    }), { actor });
    return toLead(row);
  });

  registry.add({
    method: 'delete', path: '/tenants/:tenantId/leads/:leadId', summary: 'Delete a lead and report what went with it', tag: 'leads', access: 'any',
    params: leadParams,
    response: z.object({
      leadId: z.uuid(), deleted: deletedCounts,
      mediaObjectsLeft: z.number().describe('media objects whose delete failed after the commit; the integrity run reports them as unclaimed'),
    }),
  }, async ({ request, params }) => {
    const { tenantId, leadId } = params;
    const actor = `api:${request.principal!.tokenId}`;
    const { counts, mediaKeys } = await deps.withTenant(tenantId, async (tx) => {
      // Counted in the same transaction as the delete, under the lead's lock: the report is what cascaded.
      const found = await tx.maybeOne(sql.type(deletedCounts.omit({ mediaObjects: true }).extend({ botId: z.uuid() }))`
        SELECT l.bot_id AS "botId",
               (SELECT count(*)::int FROM lead_messages WHERE tenant_id = l.tenant_id AND lead_id = l.id) AS messages,
               (SELECT count(*)::int FROM lead_stage_events WHERE tenant_id = l.tenant_id AND lead_id = l.id) AS "stageEvents",
               (SELECT count(*)::int FROM lead_events WHERE tenant_id = l.tenant_id AND lead_id = l.id) AS events,
               (SELECT count(*)::int FROM email_enrollments WHERE tenant_id = l.tenant_id AND lead_id = l.id) AS "emailEnrollments",
               (SELECT count(*)::int FROM schedule_follow_ups WHERE tenant_id = l.tenant_id AND lead_id = l.id) AS "followUps"
        FROM leads l WHERE l.tenant_id = ${tenantId} AND l.id = ${leadId} FOR UPDATE`);
      if (!found) throw new HttpProblem(404, 'Not found', 'no such lead');
      const keys = await tx.anyFirst(sql.type(z.object({ key: z.string() }))`
        SELECT media_object_key AS key FROM lead_messages WHERE tenant_id = ${tenantId} AND lead_id = ${leadId} AND media_object_key IS NOT NULL ORDER BY 1`);
      await tx.query(sql.unsafe`DELETE FROM leads WHERE tenant_id = ${tenantId} AND id = ${leadId}`);
      const { botId, ...cascaded } = found;
      const deleted = { ...cascaded, mediaObjects: keys.length };
      await auditResource(tx, tenantId, actor, 'lead.deleted', { leadId, botId, deleted });
      return { counts: deleted, mediaKeys: keys };
    }, { actor });
    // After the commit: the rows are gone, so are their objects. One that fails to go stays an
    // unclaimed object, which the integrity run reports; the answer says how many.
    const mediaObjectsLeft = await deleteObjectKeys({ s3: deps.s3, bucket: deps.config.s3.bucket }, mediaKeys).then(() => 0, (error: unknown) => {
      deps.logger.warn({ err: error, tenantId, leadId }, 'media objects of a deleted lead were not deleted');
      return mediaKeys.length;
    });
    return { leadId, deleted: counts, mediaObjectsLeft };
  });
};
