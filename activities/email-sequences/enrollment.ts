// The enrolment workflow's reads and writes of its row: the next step's wait, the step rendered
// right before its send (after the stop conditions), the step recorded as sent, and the end.
// A running enrolment reads its steps when it needs them, so an edited step applies to it, and a
// removed step ends it (completed).
import { sql } from 'slonik';
import { z } from 'zod';
import type { TenantTransaction, WithTenant } from '../../core/db/with-tenant.ts';
import { renderTemplate } from '../../core/email-sequences/template.ts';
import type { EnrollmentEnd, EnrollmentRef, StepPlan, StepWait } from '../../core/temporal/email-sequences.ts';
import { runningEnrollment, stopReasonOf, type EnrollmentRow } from './stop-condition.ts';
import { templateValuesOf } from './template-values.ts';

const stepRow = z.object({ delay_seconds: z.number(), subject: z.string(), text_template: z.string(), html_template: z.string() });
const ACTOR = { actor: 'email-sequences' };
const DELETED: EnrollmentEnd = { status: 'deleted' };

/** The end an enrolment row already records, or null while it runs. */
const endOf = (row: EnrollmentRow | null): EnrollmentEnd | null => {
  if (row === null) return DELETED;
  if (row.status === 'stopped') return { status: 'stopped', reason: row.stop_reason as Extract<EnrollmentEnd, { status: 'stopped' }>['reason'] };
  if (row.status === 'completed' || row.status === 'cancelled') return { status: row.status };
  return null;
};

/** The row, locked; null when it is gone (its lead was erased, which deletes its enrolments). */
const readEnrollment = (tx: TenantTransaction, ref: EnrollmentRef) => tx.maybeOne(sql.type(runningEnrollment)`
  SELECT id, sequence_id, lead_id, address, status, stop_reason, next_step FROM email_enrollments
  WHERE tenant_id = ${ref.tenantId} AND id = ${ref.enrollmentId} FOR UPDATE`);

const readStep = (tx: TenantTransaction, ref: EnrollmentRef, sequenceId: string | null, step: number) => sequenceId === null ? null : tx.maybeOne(sql.type(stepRow)`
  SELECT delay_seconds, subject, text_template, html_template FROM email_sequence_steps
  WHERE tenant_id = ${ref.tenantId} AND sequence_id = ${sequenceId} AND position = ${step}`);

/** Writes the end unless the row already ended (cancelled through the API, say); answers the row's end. */
const finish = async (tx: TenantTransaction, ref: EnrollmentRef, end: EnrollmentEnd): Promise<EnrollmentEnd> => {
  const row = await readEnrollment(tx, ref);
  const already = endOf(row);
  if (already) return already;
  await tx.query(sql.unsafe`
    UPDATE email_enrollments SET status = ${end.status}, stop_reason = ${end.status === 'stopped' ? end.reason : null}, finished_at = now()
    WHERE tenant_id = ${ref.tenantId} AND id = ${ref.enrollmentId}`);
  return end;
};

export const createEnrollmentActivities = (deps: { withTenant: WithTenant }) => ({
  /** The wait before `step` (or the enrolment's next step, when it is further on), or the end. */
  async enrollmentStepWait(input: EnrollmentRef & { step: number }): Promise<StepWait> {
    return deps.withTenant(input.tenantId, async (tx) => {
      const row = await readEnrollment(tx, input);
      if (row === null) return { kind: 'end', end: DELETED };
      const ended = endOf(row);
      if (ended) return { kind: 'end', end: ended };
      const step = Math.max(input.step, row.next_step);
      const found = await readStep(tx, input, row.sequence_id, step);
      if (found) return { kind: 'wait', step, delaySeconds: found.delay_seconds };
      // Past the last step, or the sequence is gone: the stop check before a send would tell which.
      const reason = await stopReasonOf(tx, input.tenantId, row);
      return { kind: 'end', end: await finish(tx, input, reason === null ? { status: 'completed' } : { status: 'stopped', reason }) };
    }, ACTOR);
  },

  /** Right before the send: the stop conditions, then the step rendered for the lead as it is now. */
  async prepareEnrollmentStep(input: EnrollmentRef & { step: number }): Promise<StepPlan> {
    return deps.withTenant(input.tenantId, async (tx) => {
      const row = await readEnrollment(tx, input);
      if (row === null) return { kind: 'end', end: DELETED };
      const ended = endOf(row);
      if (ended) return { kind: 'end', end: ended };
      if (row.status === 'paused') return { kind: 'hold' };
      const reason = await stopReasonOf(tx, input.tenantId, row);
      if (reason !== null) return { kind: 'end', end: await finish(tx, input, { status: 'stopped', reason }) };
      const step = await readStep(tx, input, row.sequence_id, input.step);
      if (!step) return { kind: 'end', end: await finish(tx, input, { status: 'completed' }) };
      const values = await templateValuesOf(tx, input.tenantId, row.lead_id);
      return {
        kind: 'send',
        message: {
          tenantId: input.tenantId, enrollmentId: input.enrollmentId, step: input.step, to: row.address,
          subject: renderTemplate(step.subject, values, 'text'),
          text: renderTemplate(step.text_template, values, 'text'),
          html: renderTemplate(step.html_template, values, 'html'),
        },
      };
    }, ACTOR);
  },

  async recordEnrollmentStepSent(input: EnrollmentRef & { step: number }): Promise<void> {
    await deps.withTenant(input.tenantId, (tx) => tx.query(sql.unsafe`
      UPDATE email_enrollments SET next_step = greatest(next_step, ${input.step + 1})
      WHERE tenant_id = ${input.tenantId} AND id = ${input.enrollmentId}`), ACTOR);
  },

  async finishEnrollment(input: EnrollmentRef & { end: EnrollmentEnd }): Promise<EnrollmentEnd> {
    return deps.withTenant(input.tenantId, (tx) => finish(tx, input, input.end), ACTOR);
  },
});

export type EnrollmentActivities = ReturnType<typeof createEnrollmentActivities>;
