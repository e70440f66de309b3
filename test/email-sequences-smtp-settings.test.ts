// A tenant's own SMTP server: set through the API (the password sealed with the keyring, never
// answered nor audited), used by sendEmailStep (its From, its login), taken up at the next send when
// it changes, and dropped by DELETE (back to the platform's server). The tenant's server is a second
// mailpit that demands that login; the platform's is the stack's mailpit.
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { ApplicationFailure } from '@temporalio/common';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { createEmailSequenceActivities } from '../activities/email-sequences/send-step.ts';
import { loadConfig } from '../core/config.ts';
import { loadKeyring } from '../core/crypto/keyring.ts';
import { createDatabasePools, createTokenAdminPool, type DatabasePools } from '../core/db/pools.ts';
import { createWithTenant, type WithTenant } from '../core/db/with-tenant.ts';
import type { StepMessage } from '../core/temporal/email-sequences.ts';
import { startEmailApi, startTenantMailpit } from './support/email-api.ts';
import { newEnrollment } from './support/email-sequences.ts';
import { createMailpit } from './support/mailpit.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

const config = loadConfig();
const platformMailpit = createMailpit(config);
const PASSWORD = `Tenant-pw-${randomUUID()}`;
const LOGIN = { user: 'acme-sender', password: PASSWORD };
let pools: DatabasePools;
let tokenPool: DatabasePool;
let withTenant: WithTenant;
let tenantA: TenantGraph;
let tenantB: TenantGraph;
let api: Awaited<ReturnType<typeof startEmailApi>>;
let tenantServer: Awaited<ReturnType<typeof startTenantMailpit>>;
let tokenA: string;
let tokenB: string;
let activities: ReturnType<typeof createEmailSequenceActivities>;

const settingsPath = (tenant: TenantGraph) => `/tenants/${tenant.tenantId}/email-settings`;
const acmeSettings = (overrides: Record<string, unknown> = {}) => ({
  host: '127.0.0.1', port: tenantServer.smtpPort, security: 'none', login: { username: LOGIN.user, password: PASSWORD },
  fromAddress: 'Sales@Acme.example', fromName: 'Acme Sales', ...overrides,
});
// Each step belongs to an enrolment of its own (the sent-log's foreign key).
const stepTo = async (to: string): Promise<StepMessage> => ({
  tenantId: tenantA.tenantId, enrollmentId: await newEnrollment(withTenant, tenantA, to), step: 0, to, subject: 'Hello from Acme', text: 'Hi', html: '<p>Hi</p>',
});
const failureType = async (promise: Promise<unknown>) => {
  const error = await promise.then(() => null, (failure: unknown) => failure);
  expect(error).toBeInstanceOf(ApplicationFailure);
  return (error as ApplicationFailure).type;
};

beforeAll(async () => {
  pools = await createDatabasePools(config.database);
  tokenPool = await createTokenAdminPool(config.database);
  withTenant = createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 });
  [tenantA, tenantB] = [await seedTenant(withTenant), await seedTenant(withTenant)];
  api = await startEmailApi(config, { pools, tokenPool, withTenant });
  [tokenA, tokenB] = [await api.tokenFor(tenantA.tenantId), await api.tokenFor(tenantB.tenantId)];
  tenantServer = await startTenantMailpit(config, LOGIN);
  activities = createEmailSequenceActivities({ withTenant, email: config.email, keyring: () => loadKeyring(config.encryption), publicApiUrl: api.base });
});
afterEach(async () => {
  await api.call('DELETE', settingsPath(tenantA), tokenA);
});
afterAll(async () => {
  tenantServer.stop();
  await api.stop();
  await Promise.all([pools.end(), tokenPool.end()]);
});

describe('a tenant\'s SMTP settings', () => {
  it('are stored with the password sealed: GET, the raw row and the audit trail never hold it', async () => {
    const put = await api.call('PUT', settingsPath(tenantA), tokenA, acmeSettings());
    expect(put).toEqual({ status: 200, json: {
      host: '127.0.0.1', port: tenantServer.smtpPort, security: 'none', login: { username: LOGIN.user, passwordSet: true },
      fromAddress: 'sales@acme.example', fromName: 'Acme Sales', updatedAt: expect.any(String),
    } });
    expect(await api.call('GET', settingsPath(tenantA), tokenA)).toEqual(put);

    const raw = await withTenant(tenantA.tenantId, (tx) => tx.one(sql.type(z.object({ row: z.string(), key_id: z.string(), sealed: z.instanceof(Buffer) }))`
      SELECT row_to_json(s)::text AS row, password_key_id AS key_id, password_sealed AS sealed FROM email_smtp_settings s WHERE tenant_id = ${tenantA.tenantId}`));
    expect(raw.key_id).toBe(loadKeyring(config.encryption).activeKeyId);
    for (const form of [PASSWORD, Buffer.from(PASSWORD).toString('hex'), Buffer.from(PASSWORD).toString('base64')]) {
      expect(raw.row).not.toContain(form);
      expect(raw.sealed.toString('latin1')).not.toContain(PASSWORD);
    }
    const audit = await withTenant(tenantA.tenantId, (tx) => tx.manyFirst(sql.type(z.object({ details: z.string() }))`
      SELECT details::text AS details FROM audit_logs WHERE tenant_id = ${tenantA.tenantId} AND action = 'email.smtp_settings_set'`));
    expect(audit.length).toBeGreaterThan(0);
    for (const details of audit) expect(details).not.toContain(PASSWORD);
    expect(JSON.parse(audit.at(-1)!)).toEqual(expect.objectContaining({ password: 'changed', host: '127.0.0.1' }));

    // An update without a password keeps the sealed one; null removes it.
    const kept = await api.call('PUT', settingsPath(tenantA), tokenA, acmeSettings({ login: { username: LOGIN.user }, fromName: null }));
    expect(kept.json).toEqual(expect.objectContaining({ login: { username: LOGIN.user, passwordSet: true }, fromName: null }));
    const removed = await api.call('PUT', settingsPath(tenantA), tokenA, acmeSettings({ login: { username: LOGIN.user, password: null } }));
    expect(removed.json.login).toEqual({ username: LOGIN.user, passwordSet: false });
    const noLogin = await api.call('PUT', settingsPath(tenantA), tokenA, acmeSettings({ login: null }));
    expect(noLogin.json.login).toBeNull();
  });

  it('send the tenant\'s mail through its server, from its address, logged in with the opened password', async () => {
    await api.call('PUT', settingsPath(tenantA), tokenA, acmeSettings());
    const to = `lead-${randomUUID()}@example.com`;
    const message = await stepTo(to);
    expect(await activities.sendEmailStep(message)).toEqual({ outcome: 'sent', messageId: `<${message.enrollmentId}.0@acme.example>` });

    const [received] = await tenantServer.mailpit.messagesTo(to);
    expect(received).toBeDefined();
    const headers = await tenantServer.mailpit.headersOf(received!.ID);
    expect(headers.From).toEqual(['Acme Sales <sales@acme.example>']);
    expect(headers['List-Unsubscribe']).toEqual([expect.stringContaining(`<${api.base}/api/v1/unsubscribe/`)]);
    expect(await platformMailpit.messagesTo(to)).toHaveLength(0);
  });

  it('are taken up at the next send when they change, and DELETE returns the tenant to the platform\'s server', async () => {
    await api.call('PUT', settingsPath(tenantA), tokenA, acmeSettings({ login: { username: LOGIN.user, password: 'not-the-password' } }));
    const refused = await stepTo(`lead-${randomUUID()}@example.com`);
    // 535 to AUTH: the tenant's configuration is wrong, the lead's address is not suppressed.
    expect(await failureType(activities.sendEmailStep(refused))).toBe('SmtpSenderRefused');

    await api.call('PUT', settingsPath(tenantA), tokenA, acmeSettings());
    expect((await activities.sendEmailStep(refused)).outcome).toBe('sent');
    expect(await tenantServer.mailpit.messagesTo(refused.to)).toHaveLength(1);

    expect(await api.call('DELETE', settingsPath(tenantA), tokenA)).toEqual({ status: 200, json: { deleted: true } });
    expect((await api.call('GET', settingsPath(tenantA), tokenA)).status).toBe(404);
    const platform = await stepTo(`lead-${randomUUID()}@example.com`);
    expect(await activities.sendEmailStep(platform)).toEqual({ outcome: 'sent', messageId: `<${platform.enrollmentId}.0@botinteligente.local>` });
    expect(await platformMailpit.messagesTo(platform.to)).toHaveLength(1);
    expect(await tenantServer.mailpit.messagesTo(platform.to)).toHaveLength(0);
    expect(await withTenant(tenantA.tenantId, (tx) => tx.exists(sql.unsafe`
      SELECT 1 FROM audit_logs WHERE tenant_id = ${tenantA.tenantId} AND action = 'email.smtp_settings_deleted'`))).toBe(true);
  });

  it('whose password no configured key opens fail the send without retrying, and send nothing', async () => {
    await api.call('PUT', settingsPath(tenantA), tokenA, acmeSettings());
    await withTenant(tenantA.tenantId, (tx) => tx.query(sql.unsafe`
      UPDATE email_smtp_settings SET password_key_id = 'rotated-out', updated_at = clock_timestamp() WHERE tenant_id = ${tenantA.tenantId}`));
    const message = await stepTo(`lead-${randomUUID()}@example.com`);
    const error = await activities.sendEmailStep(message).then(() => null, (failure: unknown) => failure as ApplicationFailure);
    expect([error?.type, error?.nonRetryable]).toEqual(['SmtpSettingsUnreadable', true]);
    expect(await tenantServer.mailpit.messagesTo(message.to)).toHaveLength(0);
    expect(await platformMailpit.messagesTo(message.to)).toHaveLength(0);
  });

  it('refuse bad input with a problem naming the field, and store nothing', async () => {
    for (const [body, field] of [
      [acmeSettings({ login: { password: PASSWORD } }), 'body.login.username'],
      [acmeSettings({ host: 'smtp.example.com\r\nRCPT TO:<x@y.z>' }), 'body.host'],
      [acmeSettings({ security: 'ssl' }), 'body.security'],
      [acmeSettings({ port: 0 }), 'body.port'],
      [acmeSettings({ fromAddress: 'not an address' }), 'body.fromAddress'],
      [acmeSettings({ fromName: 'Acme" <evil@example.com>' }), 'body.fromName'],
      [acmeSettings({ tls: true }), 'body'],
    ] as const) {
      const refused = await api.call('PUT', settingsPath(tenantA), tokenA, body);
      expect([refused.status, (refused.json.errors as { path: string }[]).map((error) => error.path)]).toEqual([400, expect.arrayContaining([field])]);
    }
    expect((await api.call('GET', settingsPath(tenantA), tokenA)).status).toBe(404);
  });

  it('are another tenant\'s business: its token gets 404 and changes nothing', async () => {
    await api.call('PUT', settingsPath(tenantA), tokenA, acmeSettings());
    const before = await api.call('GET', settingsPath(tenantA), tokenA);
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const attempt = await api.call(method, settingsPath(tenantA), tokenB, method === 'PUT' ? acmeSettings({ host: 'attacker.example' }) : undefined);
      expect([method, attempt.status]).toEqual([method, 404]);
    }
    expect(await api.call('GET', settingsPath(tenantA), tokenA)).toEqual(before);
    expect((await api.call('GET', settingsPath(tenantB), tokenB)).status).toBe(404);
  });
});
