// The stop conditions of an enrolment, checked right before each send (docs/email-sequences.md):
// its sequence deleted or deactivated, its address suppressed (bounced, unsubscribed), the lead
// replied on WhatsApp since the enrolment, or the lead reached the sequence's stop stage.
import { sql } from 'slonik';
import { z } from 'zod';
import type { TenantTransaction } from '../../core/db/with-tenant.ts';
import type { StopReason } from '../../core/temporal/email-sequences.ts';

export const runningEnrollment = z.object({
  id: z.uuid(), sequence_id: z.uuid().nullable(), lead_id: z.uuid(), address: z.string(),
  status: z.enum(['active', 'paused', 'completed', 'stopped', 'cancelled']),
  stop_reason: z.string().nullable(), next_step: z.number(),
});
export type EnrollmentRow = z.infer<typeof runningEnrollment>;

const sequenceRow = z.object({ active: z.boolean(), stop_stage_id: z.uuid().nullable() });
const suppressionRow = z.object({ reason: z.enum(['bounced', 'unsubscribed']) });

export const stopReasonOf = async (tx: TenantTransaction, tenantId: string, enrollment: EnrollmentRow): Promise<StopReason | null> => {
  if (enrollment.sequence_id === null) return 'sequence-deleted';
  const sequence = await tx.maybeOne(sql.type(sequenceRow)`
    SELECT active, stop_stage_id FROM email_sequences WHERE tenant_id = ${tenantId} AND id = ${enrollment.sequence_id}`);
  if (!sequence) return 'sequence-deleted';
  if (!sequence.active) return 'sequence-inactive';
  const suppression = await tx.maybeOne(sql.type(suppressionRow)`
    SELECT reason FROM email_suppressions WHERE tenant_id = ${tenantId} AND address = ${enrollment.address}`);
  if (suppression) return suppression.reason;
  // Only what the lead wrote after it was enrolled: the message that qualified it came before.
  if (await tx.exists(sql.unsafe`
    SELECT 1 FROM lead_messages m JOIN email_enrollments e ON e.tenant_id = m.tenant_id AND e.lead_id = m.lead_id
    WHERE e.tenant_id = ${tenantId} AND e.id = ${enrollment.id} AND m.direction = 'inbound' AND m.created_at > e.enrolled_at`)) return 'replied';
  // The stop stage, or a later stage of the same pipeline.
  if (sequence.stop_stage_id !== null && await tx.exists(sql.unsafe`
    SELECT 1 FROM leads l
      JOIN pipeline_stages reached ON reached.tenant_id = l.tenant_id AND reached.id = l.stage_id
      JOIN pipeline_stages stop ON stop.tenant_id = l.tenant_id AND stop.id = ${sequence.stop_stage_id}
    WHERE l.tenant_id = ${tenantId} AND l.id = ${enrollment.lead_id}
      AND (reached.id = stop.id OR (reached.pipeline_id = stop.pipeline_id AND reached.position >= stop.position))`)) return 'stage-reached';
  return null;
};
