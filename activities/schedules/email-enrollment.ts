// A firing's `email_enrollment` action: the schedule's segment (leads with an address that is not
// suppressed) enrolled into its sequence, each enrolment then started as its own workflow. The rows
// carry the firing's id, so a retried or re-run firing starts the workflows of the rows it already
// wrote and enrols nobody twice. A lead ever enrolled in the sequence (by anyone) is not enrolled
// again by a schedule: a weekly firing must not restart a sequence the lead finished or left.
import { Context } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { ApplicationFailure, WorkflowIdReusePolicy } from '@temporalio/common';
import { sql } from 'slonik';
import { z } from 'zod';
import type { WithTenant } from '../../core/db/with-tenant.ts';
import { scheduleActionSchema } from '../../core/schedules/action.ts';
import { SEGMENT_MAX_LEADS, SEGMENT_ORDER, segmentLeadsFrom } from '../../core/schedules/segment.ts';
import { EMAIL_SEQUENCE_WORKFLOW, emailSequenceWorkflowId } from '../../core/temporal/email-sequences.ts';
import type { EmailEnrollmentCounts, ScheduledRunInput } from '../../core/temporal/schedules.ts';
import { tenantSearchAttributes } from '../../core/temporal/search-attributes.ts';

type FiringRef = ScheduledRunInput & { readonly firingId: string };

const ACTOR = 'schedule-email-enrollment';
const actionRow = z.object({ action: z.unknown(), botStatus: z.string() });
const enrolled = z.object({ id: z.uuid(), leadId: z.uuid(), running: z.boolean() });

export const createEmailEnrollmentActivities = (deps: { withTenant: WithTenant; temporal: Client; taskQueue: string }) => ({
  /** Enrols the firing's segment (once per firing), then starts every enrolment the firing wrote that still runs. */
  async enrollScheduleSegment(ref: FiringRef): Promise<EmailEnrollmentCounts> {
    const resolved = await deps.withTenant(ref.tenantId, async (tx) => {
      const row = await tx.maybeOne(sql.type(actionRow)`
        SELECT s.action, b.status AS "botStatus" FROM schedules s JOIN bots b ON b.tenant_id = s.tenant_id AND b.id = s.bot_id
         WHERE s.tenant_id = ${ref.tenantId} AND s.id = ${ref.scheduleId}`);
      if (row === null) return { skippedReason: 'the schedule was deleted' };
      const parsed = scheduleActionSchema.safeParse(row.action);
      if (!parsed.success || parsed.data.type !== 'email_enrollment') {
        throw ApplicationFailure.nonRetryable(`schedule ${ref.scheduleId} has no email_enrollment action: ${parsed.error?.message ?? 'another action type'}`, 'InvalidScheduleAction');
      }
      const { segment, sequenceId } = parsed.data;
      if (row.botStatus !== 'active') return { skippedReason: `the bot is ${row.botStatus}` };
      const sequenceActive = await tx.maybeOneFirst(sql.type(z.object({ active: z.boolean() }))`
        SELECT active FROM email_sequences WHERE tenant_id = ${ref.tenantId} AND id = ${sequenceId}`);
      if (sequenceActive === null) return { skippedReason: `sequence ${sequenceId} was deleted` };
      if (!sequenceActive) return { skippedReason: `sequence ${sequenceId} is inactive` };
      const from = segmentLeadsFrom({ tenantId: ref.tenantId, botId: ref.botId, segment, channel: 'email' });
      const notEnrolledBefore = sql.fragment`NOT EXISTS (
        SELECT 1 FROM email_enrollments e WHERE e.tenant_id = l.tenant_id AND e.sequence_id = ${sequenceId} AND e.lead_id = l.id)`;
      const firingWrote = sql.fragment`EXISTS (
        SELECT 1 FROM email_enrollments f WHERE f.tenant_id = ${ref.tenantId} AND f.schedule_firing_id = ${ref.firingId})`;
      const inserted = await tx.query(sql.unsafe`
        INSERT INTO email_enrollments (tenant_id, sequence_id, lead_id, address, source, schedule_firing_id)
        SELECT ${ref.tenantId}, ${sequenceId}, l.id, lower(l.email), 'schedule', ${ref.firingId} ${from}
           AND ${notEnrolledBefore} AND NOT ${firingWrote}
        ${SEGMENT_ORDER} LIMIT ${SEGMENT_MAX_LEADS}
        ON CONFLICT (tenant_id, sequence_id, lead_id) WHERE status IN ('active', 'paused') DO NOTHING`);
      const truncated = inserted.rowCount >= SEGMENT_MAX_LEADS && await tx.exists(sql.unsafe`SELECT 1 ${from} AND ${notEnrolledBefore}`);
      await tx.query(sql.unsafe`
        INSERT INTO audit_logs (tenant_id, actor, action, details)
        VALUES (${ref.tenantId}, ${ACTOR}, 'schedule.email_enrollment',
                ${sql.jsonb({ scheduleId: ref.scheduleId, sequenceId, firingId: ref.firingId, enrolled: inserted.rowCount, truncated })})`);
      return { skippedReason: null, truncated };
    }, { actor: ACTOR });
    if (resolved.skippedReason !== null) return { enrolled: 0, started: 0, truncated: false, skippedReason: resolved.skippedReason };

    const written = await deps.withTenant(ref.tenantId, (tx) => tx.any(sql.type(enrolled)`
      SELECT id, lead_id AS "leadId", status IN ('active', 'paused') AS running FROM email_enrollments
       WHERE tenant_id = ${ref.tenantId} AND schedule_firing_id = ${ref.firingId}
       ORDER BY id`));
    let started = 0;
    for (const enrollment of written.filter((row) => row.running)) {
      try {
        await deps.temporal.workflow.start(EMAIL_SEQUENCE_WORKFLOW, {
          workflowId: emailSequenceWorkflowId(ref.tenantId, enrollment.id), taskQueue: deps.taskQueue,
          args: [{ tenantId: ref.tenantId, enrollmentId: enrollment.id }],
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          typedSearchAttributes: tenantSearchAttributes({ tenantId: ref.tenantId, leadId: enrollment.leadId }),
        });
        started += 1;
      } catch (error) {
        // Started by an earlier attempt of this firing.
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      }
      Context.current().heartbeat(started);
    }
    return { enrolled: written.length, started, truncated: resolved.truncated, skippedReason: null };
  },
});
