// Emails per second to the stack's mailpit through the workflow path (one enrolment workflow per
// mail: stop checks, render, send, sent-log, on the platform worker process) beside nodemailer
// sending the same number of messages straight to the same server, in the same run, both with 10
// sends in flight. What the durable path costs per mail, not the SMTP server's speed.
import { createTransport } from 'nodemailer';
import { sql } from 'slonik';
import { z } from 'zod';
import type { Config } from '../core/config.ts';
import type { WithTenant } from '../core/db/with-tenant.ts';
import { connectTemporalClient } from '../core/temporal/client.ts';
import { EMAIL_SEQUENCE_WORKFLOW, emailSequenceWorkflowId } from '../core/temporal/email-sequences.ts';
import { createLead, createSequence, enrolLead } from '../test/support/email-sequences.ts';
import type { ProcessGroup } from '../test/support/processes.ts';
import { seedTenant } from '../test/support/tenant-fixture.ts';
import type { emailSequence } from '../workflows/email-sequences.ts';

const MAILS = 300;
const IN_FLIGHT = 10;

/** Runs `work` over `items` with at most IN_FLIGHT at once. */
const pooled = async <T>(items: readonly T[], work: (item: T) => Promise<unknown>) => {
  let next = 0;
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
};

export const runEmailSequenceBench = async (processes: ProcessGroup, config: Config, withTenant: WithTenant) => {
  const tenant = await seedTenant(withTenant);
  const run = Date.now().toString(36);

  // nodemailer alone, as the send activity builds its transport (one connection per message).
  const transport = createTransport({ host: config.email.smtp.host, port: config.email.smtp.port, secure: false });
  const directStarted = performance.now();
  await pooled(Array.from({ length: MAILS }, (_, n) => n), (n) => transport.sendMail({
    from: config.email.from, to: `direct-${run}-${n}@example.com`, subject: 'Bench', text: 'Hello', html: '<p>Hello</p>',
  }));
  const directSeconds = (performance.now() - directStarted) / 1000;

  const sequenceId = await createSequence(withTenant, tenant.tenantId, [{ delaySeconds: 0, subject: 'Bench {{lead.name}}', text: 'Hello {{lead.name}}', html: '<p>Hello {{lead.name}}</p>' }]);
  const enrollmentIds: string[] = [];
  for (let n = 0; n < MAILS; n += 1) {
    const address = `workflow-${run}-${n}@example.com`;
    const leadId = await createLead(withTenant, tenant, { email: address, name: `Lead ${n}` });
    enrollmentIds.push(await enrolLead(withTenant, tenant.tenantId, { sequenceId, leadId, address }));
  }
  await processes.start(['worker/main.ts'], { readyText: 'worker started', env: { LOG_LEVEL: 'info' } });
  const client = await connectTemporalClient(config.temporal);
  const workflowStarted = performance.now();
  await pooled(enrollmentIds, async (enrollmentId) => {
    const handle = await client.workflow.start<typeof emailSequence>(EMAIL_SEQUENCE_WORKFLOW, {
      taskQueue: config.temporal.taskQueue, workflowId: emailSequenceWorkflowId(tenant.tenantId, enrollmentId), args: [{ tenantId: tenant.tenantId, enrollmentId }],
    });
    await handle.result();
  });
  const workflowSeconds = (performance.now() - workflowStarted) / 1000;
  const recorded = await withTenant(tenant.tenantId, (tx) => tx.oneFirst(sql.type(z.object({ n: z.number() }))`
    SELECT count(*)::int AS n FROM email_deliveries WHERE tenant_id = ${tenant.tenantId} AND enrollment_id = ANY(${sql.array(enrollmentIds, 'uuid')})`));
  await client.connection.close();
  if (recorded !== MAILS) throw new Error(`the workflow path recorded ${recorded} of ${MAILS} mails`);
  transport.close();

  const perSecond = (seconds: number) => Math.round(MAILS / seconds);
  return {
    mails: MAILS,
    inFlight: IN_FLIGHT,
    nodemailerDirect: { seconds: Number(directSeconds.toFixed(2)), emailsPerSecond: perSecond(directSeconds) },
    workflowPath: { seconds: Number(workflowSeconds.toFixed(2)), emailsPerSecond: perSecond(workflowSeconds) },
    workflowVersusDirect: Number((directSeconds / workflowSeconds).toFixed(2)),
  };
};
