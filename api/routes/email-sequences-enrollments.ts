// Enrolments of leads in email sequences: enrol (the workflow starts after the row commits), list
// with filters, read with its sent steps, and pause, resume, cancel (the row first, then a signal).
import { sql } from 'slonik';
import { z } from 'zod';
import type { TenantTransaction } from '../../core/db/with-tenant.ts';
import { ENROLLMENT_SOURCES, insertEnrollment, isSuppressed } from '../../core/email-sequences/enroll.ts';
import type { ApiDeps } from '../deps.ts';
import type { EnrollmentWorkflows } from '../email-sequence-workflows.ts';
import { HttpProblem } from '../problem.ts';
import type { Registry } from '../route.ts';
import { auditEmailSequences } from './email-sequences.ts';
import { CREATED_US, keysetPage, olderThan } from './keyset-page.ts';
import { cursorSchema, tenantParams } from './schemas.ts';

const STATUSES = ['active', 'paused', 'completed', 'stopped', 'cancelled'] as const;

const enrollment = z.object({
  id: z.uuid(), sequenceId: z.uuid().nullable(), leadId: z.uuid(), address: z.string(), status: z.enum(STATUSES),
  stopReason: z.string().nullable(), nextStep: z.number(), source: z.enum(ENROLLMENT_SOURCES),
  enrolledAt: z.string(), finishedAt: z.string().nullable(),
});
const enrollmentRow = z.object({
  id: z.uuid(), sequence_id: z.uuid().nullable(), lead_id: z.uuid(), address: z.string(), status: z.enum(STATUSES), stop_reason: z.string().nullable(),
  next_step: z.number(), source: z.enum(ENROLLMENT_SOURCES), enrolled_at: z.number(), finished_at: z.number().nullable(), created_us: z.string(),
});
const toEnrollment = (row: z.infer<typeof enrollmentRow>) => ({
  id: row.id, sequenceId: row.sequence_id, leadId: row.lead_id, address: row.address, status: row.status, stopReason: row.stop_reason,
  nextStep: row.next_step, source: row.source, enrolledAt: new Date(row.enrolled_at).toISOString(),
  finishedAt: row.finished_at === null ? null : new Date(row.finished_at).toISOString(),
});
// Keyset pagination over (enrolled_at, id): the shared helpers name the column created_at.
const COLUMNS = sql.fragment`id, sequence_id, lead_id, address, status, stop_reason, next_step, source, enrolled_at, finished_at,
  ${CREATED_US}`;
const FROM = sql.fragment`(SELECT *, enrolled_at AS created_at FROM email_enrollments) AS enrollments`;
const delivery = z.object({ step: z.number(), messageId: z.string(), recipient: z.string(), sentAt: z.string() });
const deliveryRow = z.object({ step: z.number(), message_id: z.string(), recipient: z.string(), sent_at: z.number() });
const enrollmentParams = z.strictObject({ tenantId: z.uuid(), enrollmentId: z.uuid() });

const readEnrollment = async (tx: TenantTransaction, tenantId: string, enrollmentId: string) => {
  const row = await tx.maybeOne(sql.type(enrollmentRow)`SELECT ${COLUMNS} FROM ${FROM} WHERE tenant_id = ${tenantId} AND id = ${enrollmentId}`);
  if (!row) throw new HttpProblem(404, 'Not found', 'no such enrolment');
  return row;
};

/** Which status each control moves an enrolment from, and to. */
const CONTROLS = {
  pause: { from: ['active'], to: 'paused' },
  resume: { from: ['paused'], to: 'active' },
  cancel: { from: ['active', 'paused'], to: 'cancelled' },
} as const;

export const registerEnrollmentRoutes = (registry: Registry, deps: ApiDeps, workflows: EnrollmentWorkflows) => {
  registry.add({
    method: 'post', path: '/tenants/:tenantId/email-enrollments', summary: 'Enrol a lead in an email sequence (starts its workflow)',
    tag: 'email sequences', access: 'any', params: tenantParams, status: 201,
    body: z.strictObject({ sequenceId: z.uuid(), leadId: z.uuid() }),
    response: enrollment,
    problems: { 409: 'The lead already has a running enrolment in this sequence, the sequence is inactive, or the address is suppressed', 422: 'The lead has no e-mail address' },
  }, async ({ request, params, body }) => {
    const actor = `api:${request.principal!.tokenId}`;
    const row = await deps.withTenant(params.tenantId, async (tx) => {
      const sequence = await tx.maybeOne(sql.type(z.object({ active: z.boolean() }))`
        SELECT active FROM email_sequences WHERE tenant_id = ${params.tenantId} AND id = ${body.sequenceId}`);
      if (!sequence) throw new HttpProblem(404, 'Not found', 'no such email sequence');
      if (!sequence.active) throw new HttpProblem(409, 'Sequence inactive', 'the sequence is inactive: activate it before enrolling leads');
      const lead = await tx.maybeOne(sql.type(z.object({ email: z.string().nullable() }))`
        SELECT email FROM leads WHERE tenant_id = ${params.tenantId} AND id = ${body.leadId}`);
      if (!lead) throw new HttpProblem(404, 'Not found', 'no such lead');
      if (lead.email === null) throw new HttpProblem(422, 'No e-mail address', 'the lead has no e-mail address to mail');
      if (await isSuppressed(tx, params.tenantId, lead.email)) {
        throw new HttpProblem(409, 'Address suppressed', `${lead.email} is on the suppression list (bounced or unsubscribed)`);
      }
      const id = await insertEnrollment(tx, { tenantId: params.tenantId, sequenceId: body.sequenceId, leadId: body.leadId, address: lead.email, source: 'api' });
      if (id === null) throw new HttpProblem(409, 'Already enrolled', 'the lead has a running (active or paused) enrolment in this sequence');
      await auditEmailSequences(tx, params.tenantId, actor, 'email_enrollment.created', { enrollmentId: id, sequenceId: body.sequenceId, leadId: body.leadId });
      return readEnrollment(tx, params.tenantId, id);
    }, { actor });
    try {
      await workflows.start({ tenantId: params.tenantId, enrollmentId: row.id, leadId: row.lead_id });
    } catch (error) {
      // Nothing was sent: take the row back so that the same request can be retried.
      await deps.withTenant(params.tenantId, (tx) => tx.query(sql.unsafe`
        DELETE FROM email_enrollments WHERE tenant_id = ${params.tenantId} AND id = ${row.id}`), { actor });
      throw error;
    }
    return toEnrollment(row);
  });

  registry.add({
    method: 'get', path: '/tenants/:tenantId/email-enrollments', summary: 'List enrolments, newest first', tag: 'email sequences', access: 'any',
    params: tenantParams,
    query: z.strictObject({
      sequenceId: z.uuid().optional(),
      leadId: z.uuid().optional(),
      status: z.enum(STATUSES).optional(),
      limit: z.coerce.number().int().min(1).max(100).default(50),
      cursor: cursorSchema.optional(),
    }),
    response: z.object({ items: z.array(enrollment), nextCursor: z.string().nullable() }),
  }, async ({ params, query }) => {
    const conditions = [sql.fragment`tenant_id = ${params.tenantId}`];
    if (query.sequenceId) conditions.push(sql.fragment`sequence_id = ${query.sequenceId}`);
    if (query.leadId) conditions.push(sql.fragment`lead_id = ${query.leadId}`);
    if (query.status) conditions.push(sql.fragment`status = ${query.status}`);
    if (query.cursor) conditions.push(olderThan(query.cursor));
    const rows = await deps.withTenant(params.tenantId, (tx) => tx.any(sql.type(enrollmentRow)`
      SELECT ${COLUMNS} FROM ${FROM} WHERE ${sql.join(conditions, sql.fragment` AND `)}
      ORDER BY created_at DESC, id DESC LIMIT ${query.limit + 1}`));
    return keysetPage(rows, query.limit, toEnrollment);
  });

  registry.add({
    method: 'get', path: '/tenants/:tenantId/email-enrollments/:enrollmentId', summary: 'Read an enrolment and the steps it sent',
    tag: 'email sequences', access: 'any', params: enrollmentParams,
    response: enrollment.extend({ deliveries: z.array(delivery) }),
  }, async ({ params }) => deps.withTenant(params.tenantId, async (tx) => {
    const row = await readEnrollment(tx, params.tenantId, params.enrollmentId);
    const deliveries = await tx.any(sql.type(deliveryRow)`
      SELECT step, message_id, recipient, sent_at FROM email_deliveries
      WHERE tenant_id = ${params.tenantId} AND enrollment_id = ${params.enrollmentId} ORDER BY step`);
    return {
      ...toEnrollment(row),
      deliveries: deliveries.map((sent) => ({ step: sent.step, messageId: sent.message_id, recipient: sent.recipient, sentAt: new Date(sent.sent_at).toISOString() })),
    };
  }));

  for (const [control, { from, to }] of Object.entries(CONTROLS) as [keyof typeof CONTROLS, (typeof CONTROLS)[keyof typeof CONTROLS]][]) {
    registry.add({
      method: 'post', path: `/tenants/:tenantId/email-enrollments/:enrollmentId/${control}`,
      summary: `${control[0]!.toUpperCase()}${control.slice(1)} an enrolment (from ${from.join(' or ')})`, tag: 'email sequences', access: 'any',
      params: enrollmentParams, response: enrollment,
      problems: { 409: `The enrolment is not ${from.join(' or ')}` },
    }, async ({ request, params }) => {
      const actor = `api:${request.principal!.tokenId}`;
      const row = await deps.withTenant(params.tenantId, async (tx) => {
        // Locked: the workflow may be ending the enrolment at this moment.
        await tx.query(sql.unsafe`SELECT 1 FROM email_enrollments WHERE tenant_id = ${params.tenantId} AND id = ${params.enrollmentId} FOR UPDATE`);
        const current = await readEnrollment(tx, params.tenantId, params.enrollmentId);
        if (!(from as readonly string[]).includes(current.status)) {
          throw new HttpProblem(409, 'Wrong enrolment status', `the enrolment is ${current.status}; ${control} needs it ${from.join(' or ')}`);
        }
        await tx.query(sql.unsafe`
          UPDATE email_enrollments SET status = ${to}, finished_at = ${to === 'cancelled' ? sql.fragment`now()` : sql.fragment`NULL`}
          WHERE tenant_id = ${params.tenantId} AND id = ${params.enrollmentId}`);
        await auditEmailSequences(tx, params.tenantId, actor, `email_enrollment.${control}`, { enrollmentId: params.enrollmentId, from: current.status });
        return readEnrollment(tx, params.tenantId, params.enrollmentId);
      }, { actor });
      await workflows.wake(params.tenantId, params.enrollmentId, control);
      return toEnrollment(row);
    });
  }
};
