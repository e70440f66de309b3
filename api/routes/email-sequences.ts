// A tenant's email sequences (definitions with their ordered steps), the sequence a bot enrols its
// qualified leads in, and (email-sequences-enrollments.ts) the enrolments. Every write is audited;
// templates naming an unknown variable are refused (docs/email-sequences.md).
import { sql } from 'slonik';
import { z } from 'zod';
import type { TenantTransaction } from '../../core/db/with-tenant.ts';
import { TEMPLATE_VARIABLES, templateProblems } from '../../core/email-sequences/template.ts';
import type { ApiDeps } from '../deps.ts';
import { createEnrollmentWorkflows } from '../email-sequence-workflows.ts';
import type { ApiMetrics } from '../metrics.ts';
import { HttpProblem } from '../problem.ts';
import type { Registry } from '../route.ts';
import { registerEnrollmentRoutes } from './email-sequences-enrollments.ts';
import { requireBot } from './require-bot.ts';
import { botParams, nameText, tenantParams } from './schemas.ts';
import { storableText } from '../../core/text-patterns.ts';

const MAX_DELAY_SECONDS = 31_536_000;

/** A template field: stored text, with only `{{variable}}` tags naming known variables. */
const template = (max: number) => storableText({ min: 1, max }).superRefine((value, context) => {
  const { unknownVariables, malformed } = templateProblems(value);
  if (unknownVariables.length > 0) {
    context.addIssue({ code: 'custom', message: `unknown template variables: ${unknownVariables.join(', ')} (known: ${TEMPLATE_VARIABLES.join(', ')})` });
  }
  if (malformed) context.addIssue({ code: 'custom', message: 'only {{variable}} tags are allowed: no sections, partials, triple braces or expressions' });
});

const stepInput = z.strictObject({
  delaySeconds: z.number().int().min(0).max(MAX_DELAY_SECONDS).meta({ description: 'after the previous step\'s send (the first step: after the enrolment)' }),
  subject: template(500),
  text: template(100_000),
  html: template(200_000),
});
const sequenceFields = {
  name: nameText(200),
  active: z.boolean(),
  stopStageId: z.uuid().nullable().meta({ description: 'a lead that reaches this pipeline stage (or a later one) is mailed no more' }),
  steps: z.array(stepInput).min(1).max(50),
};

const step = z.object({ position: z.number(), delaySeconds: z.number(), subject: z.string(), text: z.string(), html: z.string() });
const sequence = z.object({
  id: z.uuid(), name: z.string(), active: z.boolean(), stopStageId: z.uuid().nullable(), steps: z.array(step), createdAt: z.string(), updatedAt: z.string(),
});
const sequenceRow = z.object({
  id: z.uuid(), name: z.string(), active: z.boolean(), stop_stage_id: z.uuid().nullable(), created_at: z.number(), updated_at: z.number(),
});
const stepRow = z.object({
  sequence_id: z.uuid(), position: z.number(), delay_seconds: z.number(), subject: z.string(), text_template: z.string(), html_template: z.string(),
});
const sequenceParams = z.strictObject({ tenantId: z.uuid(), sequenceId: z.uuid() });

type SequenceRow = z.infer<typeof sequenceRow>;
type StepInput = z.infer<typeof stepInput>;

export const auditEmailSequences = (tx: TenantTransaction, tenantId: string, actor: string, action: string, details: Record<string, unknown>) => tx.query(sql.unsafe`
  INSERT INTO audit_logs (tenant_id, actor, action, details) VALUES (${tenantId}, ${actor}, ${action}, ${sql.jsonb(details as never)})`);

/** The sequences with their steps, in position order. */
const withSteps = async (tx: TenantTransaction, tenantId: string, rows: readonly SequenceRow[]) => {
  const steps = rows.length === 0 ? [] : await tx.any(sql.type(stepRow)`
    SELECT sequence_id, position, delay_seconds, subject, text_template, html_template FROM email_sequence_steps
    WHERE tenant_id = ${tenantId} AND sequence_id = ANY(${sql.array(rows.map((row) => row.id), 'uuid')}) ORDER BY sequence_id, position`);
  return rows.map((row) => ({
    id: row.id, name: row.name, active: row.active, stopStageId: row.stop_stage_id,
    createdAt: new Date(row.created_at).toISOString(), updatedAt: new Date(row.updated_at).toISOString(),
    steps: steps.filter((found) => found.sequence_id === row.id).map((found) => ({
      position: found.position, delaySeconds: found.delay_seconds, subject: found.subject, text: found.text_template, html: found.html_template,
    })),
  }));
};

const COLUMNS = sql.fragment`id, name, active, stop_stage_id, created_at, updated_at`;

const readSequence = async (tx: TenantTransaction, tenantId: string, sequenceId: string) => {
  const row = await tx.maybeOne(sql.type(sequenceRow)`SELECT ${COLUMNS} FROM email_sequences WHERE tenant_id = ${tenantId} AND id = ${sequenceId}`);
  if (!row) throw new HttpProblem(404, 'Not found', 'no such email sequence');
  return (await withSteps(tx, tenantId, [row]))[0]!;
};

const requireStage = async (tx: TenantTransaction, tenantId: string, stageId: string | null | undefined) => {
  if (!stageId) return;
  if (!await tx.exists(sql.unsafe`SELECT 1 FROM pipeline_stages WHERE tenant_id = ${tenantId} AND id = ${stageId}`)) {
    throw new HttpProblem(404, 'Not found', `no pipeline stage ${stageId} in this tenant`);
  }
};

/** Replaces the steps; a running enrolment reads its next step when it sends it. */
const writeSteps = async (tx: TenantTransaction, tenantId: string, sequenceId: string, steps: readonly StepInput[]) => {
  await tx.query(sql.unsafe`DELETE FROM email_sequence_steps WHERE tenant_id = ${tenantId} AND sequence_id = ${sequenceId}`);
  for (const [position, given] of steps.entries()) {
    await tx.query(sql.unsafe`
      INSERT INTO email_sequence_steps (tenant_id, sequence_id, position, delay_seconds, subject, text_template, html_template)
      VALUES (${tenantId}, ${sequenceId}, ${position}, ${given.delaySeconds}, ${given.subject}, ${given.text}, ${given.html})`);
  }
};

/** Ends the sequence's running enrolments (it was deactivated or is being deleted); answers their ids, to wake them. */
const stopRunning = (tx: TenantTransaction, tenantId: string, sequenceId: string, reason: 'sequence-inactive' | 'sequence-deleted') => tx.anyFirst(sql.type(z.object({ id: z.uuid() }))`
  UPDATE email_enrollments SET status = 'stopped', stop_reason = ${reason}, finished_at = now()
  WHERE tenant_id = ${tenantId} AND sequence_id = ${sequenceId} AND status IN ('active', 'paused') RETURNING id`);

export const registerEmailSequenceRoutes = (registry: Registry, deps: ApiDeps, metrics: ApiMetrics) => {
  const workflows = createEnrollmentWorkflows(deps, metrics);
  const wakeAll = (tenantId: string, ids: readonly string[]) => Promise.all(ids.map((id) => workflows.wake(tenantId, id, 'cancel')));

  registry.add({
    method: 'get', path: '/tenants/:tenantId/email-sequences', summary: 'List the email sequences, with their steps', tag: 'email sequences', access: 'any',
    params: tenantParams, response: z.object({ items: z.array(sequence) }),
  }, async ({ params }) => deps.withTenant(params.tenantId, async (tx) => ({
    items: await withSteps(tx, params.tenantId, await tx.any(sql.type(sequenceRow)`
      SELECT ${COLUMNS} FROM email_sequences WHERE tenant_id = ${params.tenantId} ORDER BY created_at, id`)),
  })));

  registry.add({
    method: 'post', path: '/tenants/:tenantId/email-sequences', summary: 'Create an email sequence with its steps', tag: 'email sequences', access: 'any',
    params: tenantParams, status: 201,
    body: z.strictObject({ ...sequenceFields, active: sequenceFields.active.default(true), stopStageId: sequenceFields.stopStageId.default(null) }),
    response: sequence,
  }, async ({ request, params, body }) => {
    const actor = `api:${request.principal!.tokenId}`;
    return deps.withTenant(params.tenantId, async (tx) => {
      await requireStage(tx, params.tenantId, body.stopStageId);
      const id = await tx.oneFirst(sql.type(z.object({ id: z.uuid() }))`
        INSERT INTO email_sequences (tenant_id, name, active, stop_stage_id) VALUES (${params.tenantId}, ${body.name}, ${body.active}, ${body.stopStageId})
        RETURNING id`);
      await writeSteps(tx, params.tenantId, id, body.steps);
      await auditEmailSequences(tx, params.tenantId, actor, 'email_sequence.created', { sequenceId: id, steps: body.steps.length });
      return readSequence(tx, params.tenantId, id);
    }, { actor });
  });

  registry.add({
    method: 'get', path: '/tenants/:tenantId/email-sequences/:sequenceId', summary: 'Read an email sequence', tag: 'email sequences', access: 'any',
    params: sequenceParams, response: sequence,
  }, async ({ params }) => deps.withTenant(params.tenantId, (tx) => readSequence(tx, params.tenantId, params.sequenceId)));

  registry.add({
    method: 'patch', path: '/tenants/:tenantId/email-sequences/:sequenceId',
    summary: 'Update an email sequence (the fields given; steps replace all steps; deactivating stops its running enrolments)',
    tag: 'email sequences', access: 'any', params: sequenceParams,
    body: z.strictObject(sequenceFields).partial()
      .refine((fields) => Object.keys(fields).length > 0, 'name at least one field to change').meta({ minProperties: 1 }),
    response: sequence,
  }, async ({ request, params, body }) => {
    const actor = `api:${request.principal!.tokenId}`;
    const { updated, stopped } = await deps.withTenant(params.tenantId, async (tx) => {
      await requireStage(tx, params.tenantId, body.stopStageId);
      const found = await tx.maybeOne(sql.unsafe`
        UPDATE email_sequences SET
          name = coalesce(${body.name ?? null}, name),
          active = coalesce(${body.active ?? null}, active),
          stop_stage_id = ${body.stopStageId === undefined ? sql.fragment`stop_stage_id` : sql.fragment`${body.stopStageId}::uuid`}
        WHERE tenant_id = ${params.tenantId} AND id = ${params.sequenceId} RETURNING id`);
      if (!found) throw new HttpProblem(404, 'Not found', 'no such email sequence');
      if (body.steps) await writeSteps(tx, params.tenantId, params.sequenceId, body.steps);
      const stoppedIds = body.active === false ? await stopRunning(tx, params.tenantId, params.sequenceId, 'sequence-inactive') : [];
      await auditEmailSequences(tx, params.tenantId, actor, 'email_sequence.updated', {
        sequenceId: params.sequenceId, fields: Object.keys(body).sort(), stoppedEnrollments: stoppedIds.length,
      });
      return { updated: await readSequence(tx, params.tenantId, params.sequenceId), stopped: stoppedIds };
    }, { actor });
    await wakeAll(params.tenantId, stopped);
    return updated;
  });

  registry.add({
    method: 'delete', path: '/tenants/:tenantId/email-sequences/:sequenceId',
    summary: 'Delete an email sequence (its running enrolments stop; enrolments and sent mail stay as history)',
    tag: 'email sequences', access: 'any', params: sequenceParams,
    response: z.object({ sequenceId: z.uuid(), deleted: z.literal(true), stoppedEnrollments: z.number() }),
  }, async ({ request, params }) => {
    const actor = `api:${request.principal!.tokenId}`;
    const stopped = await deps.withTenant(params.tenantId, async (tx) => {
      const stoppedIds = await stopRunning(tx, params.tenantId, params.sequenceId, 'sequence-deleted');
      const deleted = await tx.maybeOne(sql.unsafe`DELETE FROM email_sequences WHERE tenant_id = ${params.tenantId} AND id = ${params.sequenceId} RETURNING id`);
      if (!deleted) throw new HttpProblem(404, 'Not found', 'no such email sequence');
      await auditEmailSequences(tx, params.tenantId, actor, 'email_sequence.deleted', { sequenceId: params.sequenceId, stoppedEnrollments: stoppedIds.length });
      return stoppedIds;
    }, { actor });
    await wakeAll(params.tenantId, stopped);
    return { sequenceId: params.sequenceId, deleted: true as const, stoppedEnrollments: stopped.length };
  });

  registry.add({
    method: 'put', path: '/tenants/:tenantId/bots/:botId/email-sequence',
    summary: 'Name the sequence this bot enrols a lead in when the lead qualifies (null: none)', tag: 'email sequences', access: 'any',
    params: botParams, body: z.strictObject({ sequenceId: z.uuid().nullable() }),
    response: z.object({ botId: z.uuid(), sequenceId: z.uuid().nullable() }),
  }, async ({ request, params, body }) => {
    const actor = `api:${request.principal!.tokenId}`;
    await deps.withTenant(params.tenantId, async (tx) => {
      await requireBot(tx, params.tenantId, params.botId);
      if (body.sequenceId !== null) await readSequence(tx, params.tenantId, body.sequenceId);
      await tx.query(sql.unsafe`UPDATE bots SET email_sequence_id = ${body.sequenceId} WHERE tenant_id = ${params.tenantId} AND id = ${params.botId}`);
      await auditEmailSequences(tx, params.tenantId, actor, 'bot.email_sequence_set', { botId: params.botId, sequenceId: body.sequenceId });
    }, { actor });
    return { botId: params.botId, sequenceId: body.sequenceId };
  });

  registerEnrollmentRoutes(registry, deps, workflows);
};
