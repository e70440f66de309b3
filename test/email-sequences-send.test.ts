// Sending one email-sequence step through the real SMTP server of the stack (mailpit): at most once
// per (enrolment, step), with its stable Message-ID and one-click unsubscribe headers; a temporary
// refusal is retryable and a later attempt sends once; a permanent refusal suppresses the address.
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { ApplicationFailure } from '@temporalio/common';
import { sql } from 'slonik';
import { z } from 'zod';
import { createEmailSequenceActivities } from '../activities/email-sequences/send-step.ts';
import { loadConfig } from '../core/config.ts';
import { loadKeyring } from '../core/crypto/keyring.ts';
import { createDatabasePools, type DatabasePools } from '../core/db/pools.ts';
import { createWithTenant, type WithTenant } from '../core/db/with-tenant.ts';
import type { StepMessage } from '../core/temporal/email-sequences.ts';
import { newEnrollment } from './support/email-sequences.ts';
import { createMailpit } from './support/mailpit.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

const config = loadConfig();
const mailpit = createMailpit(config);
let pools: DatabasePools;
let withTenant: WithTenant;
let tenant: TenantGraph;
let activities: ReturnType<typeof createEmailSequenceActivities>;

// Each step belongs to an enrolment of its own (the sent-log's foreign key), of a lead with this address.
const stepFor = async (overrides: Partial<StepMessage> = {}): Promise<StepMessage> => {
  const to = overrides.to ?? `lead-${randomUUID()}@example.com`;
  const enrolledAddress = to.includes('@') ? to : `lead-${randomUUID()}@example.com`;
  return {
    tenantId: tenant.tenantId,
    enrollmentId: await newEnrollment(withTenant, tenant, enrolledAddress),
    step: 0,
    to,
    subject: 'Welcome',
    text: 'Hello',
    html: '<p>Hello</p>',
    ...overrides,
  };
};

const failureOf = async (promise: Promise<unknown>) => {
  const error = await promise.then(() => null, (failure: unknown) => failure);
  expect(error).toBeInstanceOf(ApplicationFailure);
  const { type, nonRetryable } = error as ApplicationFailure;
  return { type, nonRetryable };
};

const sentLogRows = (message: StepMessage) => withTenant(tenant.tenantId, (tx) => tx.oneFirst(sql.type(z.object({ n: z.number() }))`
  SELECT count(*)::int AS n FROM email_deliveries WHERE tenant_id = ${tenant.tenantId} AND enrollment_id = ${message.enrollmentId}`));

beforeAll(async () => {
  pools = await createDatabasePools(config.database);
  withTenant = createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 });
  tenant = await seedTenant(withTenant);
  activities = createEmailSequenceActivities({ withTenant, email: config.email, keyring: () => loadKeyring(config.encryption), publicApiUrl: 'https://bots.example.com' });
});
afterEach(async () => {
  await mailpit.calm();
});
afterAll(async () => {
  await pools.end();
});

describe('sending an email-sequence step', () => {
  it('delivers once, with the Message-ID of its enrolment and step and the one-click unsubscribe headers', async () => {
    const message = await stepFor({ step: 2 });
    const expectedId = `<${message.enrollmentId}.2@botinteligente.local>`;
    expect(await activities.sendEmailStep(message)).toEqual({ outcome: 'sent', messageId: expectedId });
    // A retried activity (its first attempt's result was lost) finds the sent-log row.
    expect(await activities.sendEmailStep(message)).toEqual({ outcome: 'already-sent', messageId: expectedId });

    const received = await mailpit.messagesTo(message.to);
    expect(received.map((mail) => [mail.MessageID, mail.Subject])).toEqual([[`${message.enrollmentId}.2@botinteligente.local`, 'Welcome']]);
    const headers = await mailpit.headersOf(received[0]!.ID);
    expect(headers['Message-Id'] ?? headers['Message-ID']).toEqual([expectedId]);
    // A signed link of this tenant and address (test/email-sequences-unsubscribe.test.ts follows it).
    expect(headers['List-Unsubscribe']).toEqual([expect.stringMatching(/^<https:\/\/bots\.example\.com\/api\/v1\/unsubscribe\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}>$/)]);
    expect(headers['List-Unsubscribe-Post']).toEqual(['List-Unsubscribe=One-Click']);
    expect(await sentLogRows(message)).toBe(1);
  });

  it('retries a temporary refusal (4xx), then sends once', async () => {
    const message = await stepFor();
    await mailpit.refuse('Recipient', 451);
    expect(await failureOf(activities.sendEmailStep(message))).toEqual({ type: 'SmtpTemporaryFailure', nonRetryable: false });
    expect(await mailpit.messagesTo(message.to)).toHaveLength(0);
    expect(await sentLogRows(message)).toBe(0);

    await mailpit.refuse('Recipient', null);
    expect((await activities.sendEmailStep(message)).outcome).toBe('sent');
    expect((await activities.sendEmailStep(message)).outcome).toBe('already-sent');
    expect(await mailpit.messagesTo(message.to)).toHaveLength(1);
  });

  it('retries when the SMTP server cannot be reached', async () => {
    const unreachable = createEmailSequenceActivities({
      withTenant, email: { ...config.email, smtp: { host: '127.0.0.1', port: 1 } }, keyring: () => loadKeyring(config.encryption), publicApiUrl: 'https://bots.example.com',
    });
    expect(await failureOf(unreachable.sendEmailStep(await stepFor()))).toEqual({ type: 'SmtpTemporaryFailure', nonRetryable: false });
  });

  it('does not retry a permanent refusal (5xx), suppresses the address and mails it no more', async () => {
    const message = await stepFor({ to: `Bounce-${randomUUID()}@Example.com` });
    await mailpit.refuse('Recipient', 550);
    expect(await failureOf(activities.sendEmailStep(message))).toEqual({ type: 'EmailAddressBounced', nonRetryable: true });
    const suppressed = await withTenant(tenant.tenantId, (tx) => tx.many(sql.type(z.object({ reason: z.string(), detail: z.string() }))`
      SELECT reason, detail FROM email_suppressions WHERE tenant_id = ${tenant.tenantId} AND address = ${message.to.toLowerCase()}`));
    expect(suppressed).toEqual([{ reason: 'bounced', detail: expect.stringMatching(/^550 /) }]);

    await mailpit.refuse('Recipient', null);
    const nextStep = { ...message, step: 1, to: message.to.toLowerCase() };
    expect((await activities.sendEmailStep(nextStep)).outcome).toBe('suppressed');
    expect(await mailpit.messagesTo(message.to)).toHaveLength(0);
  });

  it('does not retry a permanent refusal of the sender, and keeps the lead\'s address', async () => {
    const message = await stepFor();
    await mailpit.refuse('Sender', 550);
    expect(await failureOf(activities.sendEmailStep(message))).toEqual({ type: 'SmtpSenderRefused', nonRetryable: true });
    expect(await withTenant(tenant.tenantId, (tx) => tx.exists(sql.unsafe`
      SELECT 1 FROM email_suppressions WHERE tenant_id = ${tenant.tenantId} AND address = ${message.to}`))).toBe(false);
  });

  it('refuses a malformed step without sending, and without retrying', async () => {
    const message = await stepFor({ to: 'not an address' });
    expect(await failureOf(activities.sendEmailStep(message))).toEqual({ type: 'InvalidEmailStep', nonRetryable: true });
    expect(await sentLogRows(message)).toBe(0);
  });
});
