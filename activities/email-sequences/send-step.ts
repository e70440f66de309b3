// Sends one step of an email sequence, at most once per (enrolment, step) in all but one case.
// Order: look in the sent-log (and the suppression list), send, then record the SMTP server's
// acceptance. A retry after a recorded send finds the row and sends nothing. The one window left:
// the process dies after the server accepted the message and before the row is written; the retry
// then sends again, with the same Message-ID (docs/email-sequences.md, "Duplicates").
import { ApplicationFailure } from '@temporalio/common';
import { createTransport } from 'nodemailer';
import { sql } from 'slonik';
import { z } from 'zod';
import type { Config } from '../../core/config.ts';
import type { WithTenant } from '../../core/db/with-tenant.ts';
import { stepMessageId } from '../../core/email-sequences/message-id.ts';
import { classifySmtpFailure } from '../../core/email-sequences/smtp-failure.ts';
import { stepMessage, type StepMessage, type StepSendResult } from '../../core/temporal/email-sequences.ts';

const SMTP_TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 };

export const createEmailSequenceActivities = (deps: { withTenant: WithTenant; email: Config['email'] }) => {
  const transport = createTransport({ host: deps.email.smtp.host, port: deps.email.smtp.port, secure: false, ...SMTP_TIMEOUTS });

  const alreadyHandled = (message: StepMessage, messageId: string) => deps.withTenant(message.tenantId, async (tx) => {
    if (await tx.exists(sql.unsafe`
      SELECT 1 FROM email_deliveries WHERE tenant_id = ${message.tenantId} AND enrollment_id = ${message.enrollmentId} AND step = ${message.step}`)) {
      return { outcome: 'already-sent', messageId } as const;
    }
    if (await tx.exists(sql.unsafe`
      SELECT 1 FROM email_suppressions WHERE tenant_id = ${message.tenantId} AND address = ${message.to.toLowerCase()}`)) {
      return { outcome: 'suppressed', messageId } as const;
    }
    return null;
  });

  const suppress = (message: StepMessage, detail: string) => deps.withTenant(message.tenantId, (tx) => tx.query(sql.unsafe`
    INSERT INTO email_suppressions (tenant_id, address, reason, detail)
    VALUES (${message.tenantId}, ${message.to.toLowerCase()}, 'bounced', ${detail})
    ON CONFLICT (tenant_id, address) DO NOTHING`), { actor: 'email-sequences' });

  return {
    async sendEmailStep(input: StepMessage): Promise<StepSendResult> {
      const parsed = stepMessage.safeParse(input);
      if (!parsed.success) throw ApplicationFailure.nonRetryable(`invalid email step: ${z.prettifyError(parsed.error)}`, 'InvalidEmailStep');
      const message = parsed.data;
      const messageId = stepMessageId({ enrollmentId: message.enrollmentId, step: message.step, from: deps.email.from });
      const handled = await alreadyHandled(message, messageId);
      if (handled) return handled;

      let accepted: { response: string };
      try {
        accepted = await transport.sendMail({
          from: deps.email.from, to: message.to, subject: message.subject, text: message.text, html: message.html, messageId,
          headers: message.unsubscribeUrl === null ? {} : {
            'List-Unsubscribe': `<${message.unsubscribeUrl}>`,
            'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
          },
        });
      } catch (error) {
        const failure = classifySmtpFailure(error);
        if (failure.kind === 'temporary') throw ApplicationFailure.retryable(`SMTP refused for now: ${failure.detail}`, 'SmtpTemporaryFailure');
        if (failure.kind === 'sender-refused') throw ApplicationFailure.nonRetryable(`SMTP refused the sender: ${failure.detail}`, 'SmtpSenderRefused');
        await suppress(message, failure.detail);
        throw ApplicationFailure.nonRetryable(`${message.to} bounced: ${failure.detail}`, 'EmailAddressBounced');
      }

      await deps.withTenant(message.tenantId, (tx) => tx.query(sql.unsafe`
        INSERT INTO email_deliveries (tenant_id, enrollment_id, step, message_id, recipient, smtp_response)
        VALUES (${message.tenantId}, ${message.enrollmentId}, ${message.step}, ${messageId}, ${message.to}, ${accepted.response.slice(0, 1000) || 'accepted'})
        ON CONFLICT (tenant_id, enrollment_id, step) DO NOTHING`), { actor: 'email-sequences' });
      return { outcome: 'sent', messageId };
    },
  };
};

export type EmailSequenceActivities = ReturnType<typeof createEmailSequenceActivities>;
