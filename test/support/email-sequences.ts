// Rows for email-sequence tests: a sequence with its steps, a lead with an address, an enrolment.
import { randomUUID } from 'node:crypto';
import { sql } from 'slonik';
import { z } from 'zod';
import type { WithTenant } from '../../core/db/with-tenant.ts';
import type { TenantGraph } from './tenant-fixture.ts';

const id = z.object({ id: z.uuid() });

export type StepFixture = { delaySeconds: number; subject: string; text: string; html: string };

export const createSequence = (withTenant: WithTenant, tenantId: string, steps: readonly StepFixture[], options: { stopStageId?: string } = {}) =>
  withTenant(tenantId, async (tx) => {
    const sequenceId = await tx.oneFirst(sql.type(id)`
      INSERT INTO email_sequences (tenant_id, name, stop_stage_id) VALUES (${tenantId}, ${`Sequence ${randomUUID()}`}, ${options.stopStageId ?? null}) RETURNING id`);
    for (const [position, step] of steps.entries()) {
      await tx.query(sql.unsafe`
        INSERT INTO email_sequence_steps (tenant_id, sequence_id, position, delay_seconds, subject, text_template, html_template)
        VALUES (${tenantId}, ${sequenceId}, ${position}, ${step.delaySeconds}, ${step.subject}, ${step.text}, ${step.html})`);
    }
    return sequenceId;
  });

/** A new lead of the tenant's bot, in its first stage, with this address (lower-case). */
export const createLead = (withTenant: WithTenant, tenant: TenantGraph, fields: { email: string; name?: string }) => withTenant(tenant.tenantId, (tx) => {
  const waId = `55219${Math.floor(Math.random() * 1e8)}`;
  return tx.oneFirst(sql.type(id)`
    INSERT INTO leads (tenant_id, bot_id, wa_id, phone_e164, name, email, pipeline_id, stage_id)
    VALUES (${tenant.tenantId}, ${tenant.botId}, ${waId}, ${`+${waId}`}, ${fields.name ?? null}, ${fields.email}, ${tenant.pipelineId}, ${tenant.stageIds[0]})
    RETURNING id`);
});

/** An active enrolment row (what the API or a qualification writes before it starts the workflow). */
export const enrolLead = (withTenant: WithTenant, tenantId: string, input: { sequenceId: string; leadId: string; address: string }) =>
  withTenant(tenantId, (tx) => tx.oneFirst(sql.type(id)`
    INSERT INTO email_enrollments (tenant_id, sequence_id, lead_id, address, source)
    VALUES (${tenantId}, ${input.sequenceId}, ${input.leadId}, ${input.address.toLowerCase()}, 'api') RETURNING id`));

/** An enrolment for a send test that needs only its id: its own sequence and lead. */
export const newEnrollment = async (withTenant: WithTenant, tenant: TenantGraph, address: string) => {
  const sequenceId = await createSequence(withTenant, tenant.tenantId, [{ delaySeconds: 0, subject: 'Hi', text: 'Hi', html: '<p>Hi</p>' }]);
  const leadId = await createLead(withTenant, tenant, { email: address.toLowerCase() });
  return enrolLead(withTenant, tenant.tenantId, { sequenceId, leadId, address });
};
