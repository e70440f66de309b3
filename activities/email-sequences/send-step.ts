// Sends one step of an email sequence, at most once per (enrolment, step) in all but one case.
// Order: look in the sent-log (and the suppression list), send, then record the SMTP server's
// acceptance. A retry after a recorded send finds the row and sends nothing. The one window left:
// the process dies after the server accepted the message and before the row is written; the retry
// then sends again, with the same Message-ID (docs/email-sequences.md, "Duplicates").
import { ApplicationFailure } from '@temporalio/common';
import { sql } from 'slonik';
import { z } from 'zod';
import type { Config } from '../../core/config.ts';
import type { Keyring } from '../../core/crypto/keyring.ts';
import type { WithTenant } from '../../core/db/with-tenant.ts';
import { stepMessageId } from '../../core/email-sequences/message-id.ts';
import { classifySmtpFailure } from '../../core/email-sequences/smtp-failure.ts';
import { signUnsubscribeToken } from '../../core/email-sequences/unsubscribe-token.ts';
import { stepMessage, type StepMessage } from '../../core/email-sequences/step-message.ts';
import type { StepSendResult } from '../../core/temporal/email-sequences.ts';
import { createSenders, readSmtpSettings, type Sender } from './sender.ts';

export type EmailSequenceDeps = {
  readonly withTenant: WithTenant;
  readonly email: Config['email'];
  /** Signs the unsubscribe links and opens tenants' SMTP passwords. */
  readonly keyring: () => Keyring;
  /** PUBLIC_API_URL: the base of the unsubscribe links. */
  readonly publicApiUrl: string;
};

/** The one-click unsubscribe link of this address in this tenant (api/unsubscribe.ts answers it). */
export const unsubscribeUrl = (deps: Pick<EmailSequenceDeps, 'keyring' | 'publicApiUrl'>, tenantId: string, address: string, now: Date) =>
  `${deps.publicApiUrl}/api/v1/unsubscribe/${signUnsubscribeToken(deps.keyring(), { tenantId, address, now })}`;

export const createEmailSequenceActivities = (deps: EmailSequenceDeps) => {
  const senders = createSenders(deps);

  /** The tenant's SMTP settings, and whether the sent-log or the suppression list already answers, in one transaction. */
  const prepare = (message: StepMessage) => deps.withTenant(message.tenantId, async (tx) => {
    const settings = await readSmtpSettings(tx, message.tenantId);
    if (await tx.exists(sql.unsafe`
      SELECT 1 FROM email_deliveries WHERE tenant_id = ${message.tenantId} AND enrollment_id = ${message.enrollmentId} AND step = ${message.step}`)) {
      return { settings, handled: 'already-sent' } as const;
    }
    if (await tx.exists(sql.unsafe`
      SELECT 1 FROM email_suppressions WHERE tenant_id = ${message.tenantId} AND address = ${message.to.toLowerCase()}`)) {
      return { settings, handled: 'suppressed' } as const;
    }
    return { settings, handled: null } as const;
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
      const prepared = await prepare(message);
      // The Message-ID's domain is the sender's: the platform's, or the tenant's own From.
      const messageId = stepMessageId({ enrollmentId: message.enrollmentId, step: message.step, from: prepared.settings?.fromAddress ?? deps.email.from });
      if (prepared.handled !== null) return { outcome: prepared.handled, messageId };
      let sender: Sender;
      try {
        sender = senders.senderFor(message.tenantId, prepared.settings);
      } catch (error) {
        // The sealed password does not open (its key was rotated out, or the row was altered): retrying cannot help.
        throw ApplicationFailure.nonRetryable(`the tenant's SMTP settings cannot be used: ${(error as Error).message}`, 'SmtpSettingsUnreadable');
      }

      let accepted: { response?: string };
      try {
        accepted = await sender.transport.sendMail({
          from: sender.from, to: message.to, subject: message.subject, text: message.text, html: message.html, messageId,
          headers: {
            'List-Unsubscribe': `<${unsubscribeUrl(deps, message.tenantId, message.to, new Date())}>`,
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
        VALUES (${message.tenantId}, ${message.enrollmentId}, ${message.step}, ${messageId}, ${message.to.toLowerCase()}, ${accepted.response?.slice(0, 1000) || 'accepted'})
        ON CONFLICT (tenant_id, enrollment_id, step) DO NOTHING`), { actor: 'email-sequences' });
      return { outcome: 'sent', messageId };
    },
  };
};

export type EmailSequenceActivities = ReturnType<typeof createEmailSequenceActivities>;
