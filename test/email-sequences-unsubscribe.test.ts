// One-click unsubscribe (RFC 8058) from the recipient's side: the link is taken from the
// List-Unsubscribe header of a mail the stack's mailpit received, its page answers a form, and the
// one-click POST suppresses the address, after which the next step to it is not sent. Expired,
// altered, forged and other-tenant tokens are refused and change nothing.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { createEmailSequenceActivities } from '../activities/email-sequences/send-step.ts';
import { loadConfig } from '../core/config.ts';
import { loadKeyring, type Keyring } from '../core/crypto/keyring.ts';
import { createDatabasePools, createTokenAdminPool, type DatabasePools } from '../core/db/pools.ts';
import { createWithTenant, type WithTenant } from '../core/db/with-tenant.ts';
import { signUnsubscribeToken, UNSUBSCRIBE_LINK_DAYS } from '../core/email-sequences/unsubscribe-token.ts';
import type { StepMessage } from '../core/temporal/email-sequences.ts';
import { startEmailApi } from './support/email-api.ts';
import { newEnrollment } from './support/email-sequences.ts';
import { createMailpit } from './support/mailpit.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

const config = loadConfig();
const mailpit = createMailpit(config);
let pools: DatabasePools;
let tokenPool: DatabasePool;
let withTenant: WithTenant;
let keyring: Keyring;
let tenantA: TenantGraph;
let tenantB: TenantGraph;
let api: Awaited<ReturnType<typeof startEmailApi>>;
let activities: ReturnType<typeof createEmailSequenceActivities>;

// Each step belongs to an enrolment of its own (the sent-log's foreign key).
const stepTo = async (to: string): Promise<StepMessage> => ({
  tenantId: tenantA.tenantId, enrollmentId: await newEnrollment(withTenant, tenantA, to), step: 0, to, subject: 'Offer', text: 'Hi', html: '<p>Hi</p>',
});
const ONE_CLICK = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' };
const linkFor = (tenantId: string, address: string, now = new Date()) => `${api.base}/api/v1/unsubscribe/${signUnsubscribeToken(keyring, { tenantId, address, now })}`;

/** Everything both tenants' suppression lists and audit trails hold: what a refused link must leave unchanged. */
const stateOfBoth = () => Promise.all([tenantA, tenantB].map((tenant) => withTenant(tenant.tenantId, async (tx) => ({
  suppressions: await tx.any(sql.unsafe`SELECT address, reason FROM email_suppressions WHERE tenant_id = ${tenant.tenantId} ORDER BY address`),
  audits: await tx.oneFirst(sql.type(z.object({ n: z.number() }))`SELECT count(*)::int AS n FROM audit_logs WHERE tenant_id = ${tenant.tenantId}`),
}))));
const suppressionOf = (tenantId: string, address: string) => withTenant(tenantId, (tx) => tx.maybeOne(sql.type(z.object({ reason: z.string(), detail: z.string() }))`
  SELECT reason, detail FROM email_suppressions WHERE tenant_id = ${tenantId} AND address = ${address}`));

beforeAll(async () => {
  pools = await createDatabasePools(config.database);
  tokenPool = await createTokenAdminPool(config.database);
  withTenant = createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 });
  keyring = loadKeyring(config.encryption);
  [tenantA, tenantB] = [await seedTenant(withTenant), await seedTenant(withTenant)];
  api = await startEmailApi(config, { pools, tokenPool, withTenant });
  activities = createEmailSequenceActivities({ withTenant, email: config.email, keyring: () => keyring, publicApiUrl: api.base });
});
afterAll(async () => {
  await api.stop();
  await Promise.all([pools.end(), tokenPool.end()]);
});

describe('one-click unsubscribe', () => {
  it('follows the link of a received mail: a page with a form, then the POST suppresses the address and the next step is not sent', async () => {
    const to = `Reader-${randomUUID()}@Example.com`;
    const first = await stepTo(to);
    expect((await activities.sendEmailStep(first)).outcome).toBe('sent');
    const [mail] = await mailpit.messagesTo(to);
    const headers = await mailpit.headersOf(mail!.ID);
    expect(headers['List-Unsubscribe-Post']).toEqual(['List-Unsubscribe=One-Click']);
    const link = /^<(.+)>$/.exec(headers['List-Unsubscribe']![0]!)![1]!;
    expect(link.startsWith(`${api.base}/api/v1/unsubscribe/`)).toBe(true);

    const page = await fetch(link);
    expect([page.status, page.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
    const html = await page.text();
    expect(html).toContain('<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">');
    expect(html).not.toMatch(/<script/i);
    // The page alone changes nothing (a link scanner's GET unsubscribes nobody).
    expect(await suppressionOf(tenantA.tenantId, to.toLowerCase())).toBeNull();

    // No bearer token: the signed link is the authority.
    const posted = await fetch(link, ONE_CLICK);
    expect(posted.status).toBe(200);
    expect(await suppressionOf(tenantA.tenantId, to.toLowerCase())).toEqual({ reason: 'unsubscribed', detail: 'one-click unsubscribe link (RFC 8058)' });
    // The address's running enrolment stopped with the unsubscribe; its next step is not sent either.
    expect(await withTenant(tenantA.tenantId, (tx) => tx.one(sql.type(z.object({ status: z.string(), stop_reason: z.string().nullable() }))`
      SELECT status, stop_reason FROM email_enrollments WHERE tenant_id = ${tenantA.tenantId} AND id = ${first.enrollmentId}`)))
      .toEqual({ status: 'stopped', stop_reason: 'unsubscribed' });
    expect(await activities.sendEmailStep({ ...first, step: 1 })).toEqual(expect.objectContaining({ outcome: 'suppressed' }));
    expect(await mailpit.messagesTo(to)).toHaveLength(1);

    // A repeat (a mail client retrying) answers the same and adds nothing.
    const before = await stateOfBoth();
    expect((await fetch(link, ONE_CLICK)).status).toBe(200);
    expect(await stateOfBoth()).toEqual(before);
    // The audit row names the address only by its digest.
    const audit = await withTenant(tenantA.tenantId, (tx) => tx.many(sql.type(z.object({ actor: z.string(), details: z.string() }))`
      SELECT actor, details::text AS details FROM audit_logs WHERE tenant_id = ${tenantA.tenantId} AND action = 'email.unsubscribed'`));
    expect(audit).toEqual([{ actor: 'unsubscribe-link', details: expect.stringMatching(/"addressSha256": "[0-9a-f]{64}"/) }]);
    expect(audit[0]!.details).not.toContain(to.toLowerCase());
  });

  it('accepts the one-click POST as multipart/form-data, as RFC 8058 prefers', async () => {
    const address = `multipart-${randomUUID()}@example.com`;
    const form = new FormData();
    form.set('List-Unsubscribe', 'One-Click');
    expect((await fetch(linkFor(tenantA.tenantId, address), { method: 'POST', body: form })).status).toBe(200);
    expect(await suppressionOf(tenantA.tenantId, address)).toEqual(expect.objectContaining({ reason: 'unsubscribed' }));
  });

  it('suppresses the address in the token\'s tenant only', async () => {
    const address = `both-${randomUUID()}@example.com`;
    expect((await fetch(linkFor(tenantB.tenantId, address), ONE_CLICK)).status).toBe(200);
    expect(await suppressionOf(tenantB.tenantId, address)).not.toBeNull();
    expect(await suppressionOf(tenantA.tenantId, address)).toBeNull();
  });

  it('is rate-limited per client address with its own limit, and logged without the token', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => { lines.push(line); } });
    const limited = await startEmailApi({
      ...config, api: { ...config.api, rateLimit: { ...config.api.rateLimit, unsubscribePerIp: 3, scope: randomUUID() } },
    }, { pools, tokenPool, withTenant, logger });
    try {
      const address = `logged-${randomUUID()}@example.com`;
      const token = signUnsubscribeToken(keyring, { tenantId: tenantA.tenantId, address, now: new Date() });
      const statuses = [(await fetch(`${limited.base}/api/v1/unsubscribe/${token}`)).status];
      for (let n = 0; n < 3; n += 1) statuses.push((await fetch(`${limited.base}/api/v1/unsubscribe/abc`)).status);
      expect(statuses).toEqual([200, 400, 400, 429]);
      const logged = lines.join('\n');
      expect(logged).toContain('/api/v1/unsubscribe/[token]');
      for (const secret of [token.split('.')[0]!, token.split('.')[1]!, address]) expect(logged).not.toContain(secret);
    } finally {
      await limited.stop();
    }
  });

  it('refuses expired, altered, forged, other-tenant and malformed links, and a POST without the one-click body, changing nothing', async () => {
    const address = `victim-${randomUUID()}@example.com`;
    const genuine = linkFor(tenantA.tenantId, address).split('/').at(-1)!;
    const [payload, mac] = genuine.split('.') as [string, string];
    const fields = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const reencoded = (changes: Record<string, unknown>) => `${Buffer.from(JSON.stringify({ ...fields, ...changes })).toString('base64url')}.${mac}`;
    const otherKeyring: Keyring = { activeKeyId: keyring.activeKeyId, key: () => randomBytes(32) };
    const expiredAt = new Date(Date.now() - (UNSUBSCRIBE_LINK_DAYS * 86_400 + 60) * 1000);
    const cases: [string, string, number][] = [
      ['expired', linkFor(tenantA.tenantId, address, expiredAt).split('/').at(-1)!, 410],
      ['another tenant put in the payload', reencoded({ t: tenantB.tenantId }), 400],
      ['another address put in the payload', reencoded({ a: `other-${address}` }), 400],
      ['a later expiry put in the payload', reencoded({ e: (fields.e as number) + 86_400 }), 400],
      ['a flipped MAC', `${payload}.${mac.startsWith('A') ? 'B' : 'A'}${mac.slice(1)}`, 400],
      ['signed with a key this platform does not hold', signUnsubscribeToken(otherKeyring, { tenantId: tenantA.tenantId, address, now: new Date() }), 400],
      ['a key id this platform does not know', reencoded({ k: 'no-such-key' }), 400],
      ['not a token', 'abc', 400],
      ['not JSON inside', `${Buffer.from('{not json').toString('base64url')}.${mac}`, 400],
    ];
    const before = await stateOfBoth();
    for (const [what, token, status] of cases) {
      for (const init of [undefined, ONE_CLICK]) {
        const response = await fetch(`${api.base}/api/v1/unsubscribe/${token}`, init);
        const problem = await response.json() as { status: number; title: string };
        expect([what, init?.method ?? 'GET', response.status, response.headers.get('content-type'), problem.status])
          .toEqual([what, init?.method ?? 'GET', status, 'application/problem+json; charset=utf-8', status]);
      }
    }
    for (const body of ['', 'List-Unsubscribe=Yes', 'unsubscribe=One-Click']) {
      const response = await fetch(`${api.base}/api/v1/unsubscribe/${genuine}`, { ...ONE_CLICK, body });
      expect([body, response.status]).toEqual([body, 400]);
    }
    const put = await fetch(`${api.base}/api/v1/unsubscribe/${genuine}`, { method: 'PUT' });
    expect([put.status, put.headers.get('allow')]).toEqual([405, 'GET, POST']);
    expect(await stateOfBoth()).toEqual(before);
  });
});
