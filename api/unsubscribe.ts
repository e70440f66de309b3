// The public one-click unsubscribe endpoint (RFC 8058), the target of every sequence mail's
// List-Unsubscribe header. No bearer token: the signed, expiring token in the path is the
// authority (core/email-sequences/unsubscribe-token.ts). GET answers a small page with a form
// (no script; a link scanner that follows GETs unsubscribes nobody); POST with
// `List-Unsubscribe=One-Click` (form-urlencoded or multipart, as mail clients send it) suppresses
// the address in the token's tenant. Repeats answer the same. A bad token changes nothing:
// malformed or forged 400, expired 410.
import express, { type Request, type Response } from 'express';
import { sql } from 'slonik';
import { z } from 'zod';
import { checkUnsubscribeToken, type UnsubscribeRequest } from '../core/email-sequences/unsubscribe-token.ts';
import { stopEnrollmentsOfAddress, wakeStoppedEnrollments } from './address-unsubscribed.ts';
import type { ApiDeps } from './deps.ts';
import { addressDigest, auditEmail } from './email-audit.ts';
import { lazyKeyring } from './keyring.ts';
import { HttpProblem, problemSchema } from './problem.ts';

export const UNSUBSCRIBE_PATH = '/api/v1/unsubscribe';
const TOKEN_PATTERN = '^[A-Za-z0-9_-]{1,800}\\.[A-Za-z0-9_-]{43}$';
const ONE_CLICK_BODY_LIMIT = '4kb';

const page = (title: string, body: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${title}</title></head>
<body><h1>${title}</h1>${body}</body></html>
`;
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** RFC 8058 section 3.1: the POST carries List-Unsubscribe=One-Click, multipart/form-data or urlencoded. */
const isOneClick = (request: Request): boolean => {
  const text = typeof request.body === 'string' ? request.body : '';
  const type = request.get('content-type') ?? '';
  if (/^multipart\/form-data/i.test(type)) return /name="?List-Unsubscribe"?\r?\n(?:[^\r\n]+\r?\n)*\r?\nOne-Click\r?\n/.test(text);
  return new URLSearchParams(text).getAll('List-Unsubscribe').includes('One-Click');
};

/** For the request log (a pino-http req serializer): a token names its recipient, so its path is logged without it. */
export const withoutUnsubscribeToken = <R extends { url?: string; params?: unknown }>(request: R): R =>
  request.url?.startsWith(`${UNSUBSCRIBE_PATH}/`) ? Object.assign(request, { url: `${UNSUBSCRIBE_PATH}/[token]`, params: {} }) : request;

export const unsubscribeRouter = (deps: ApiDeps) => {
  const keyring = lazyKeyring(deps.config);
  const router = express.Router();

  const requestOf = (token: string): UnsubscribeRequest => {
    const check = checkUnsubscribeToken(keyring(), token, new Date());
    if (check.ok) return check.request;
    if (check.reason === 'expired') throw new HttpProblem(410, 'Link expired', 'this unsubscribe link has expired; use the link in a newer mail');
    throw new HttpProblem(400, 'Invalid unsubscribe link', 'this is not an unsubscribe link this service issued (malformed or altered)');
  };

  router.get('/:token', (request: Request<{ token: string }>, response: Response) => {
    const { address } = requestOf(request.params.token);
    response.type('html').send(page('Unsubscribe', `<p>Stop sending e-mail to <strong>${escapeHtml(address)}</strong>?</p>
<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>`));
  });

  router.post('/:token', express.text({ type: () => true, limit: ONE_CLICK_BODY_LIMIT }), async (request: Request<{ token: string }>, response: Response) => {
    const { tenantId, address } = requestOf(request.params.token);
    if (!isOneClick(request)) throw new HttpProblem(400, 'Invalid request', 'the body must be List-Unsubscribe=One-Click (RFC 8058)');
    const actor = 'unsubscribe-link';
    const stopped = await deps.withTenant(tenantId, async (tx) => {
      // A deleted tenant mails nobody: nothing to record.
      if (!await tx.exists(sql.unsafe`SELECT 1 FROM tenants WHERE id = ${tenantId}`)) {
        throw new HttpProblem(410, 'Link expired', 'the sender of this mail no longer exists');
      }
      const added = await tx.maybeOne(sql.type(z.object({ id: z.uuid() }))`
        INSERT INTO email_suppressions (tenant_id, address, reason, detail)
        VALUES (${tenantId}, ${address}, 'unsubscribed', 'one-click unsubscribe link (RFC 8058)')
        ON CONFLICT (tenant_id, address) DO NOTHING RETURNING id`);
      const enrollmentIds = await stopEnrollmentsOfAddress(tx, tenantId, address);
      if (added || enrollmentIds.length > 0) {
        await auditEmail(tx, tenantId, actor, 'email.unsubscribed', { suppressionId: added?.id ?? null, addressSha256: addressDigest(address), stoppedEnrollments: enrollmentIds.length });
      }
      return enrollmentIds;
    }, { actor });
    await wakeStoppedEnrollments(deps, tenantId, stopped);
    response.type('html').send(page('Unsubscribed', `<p>${escapeHtml(address)} will receive no more of these e-mails.</p>`));
  });

  router.all('/:token', (_request, response) => {
    response.set('Allow', 'GET, POST');
    throw new HttpProblem(405, 'Method not allowed', `${UNSUBSCRIBE_PATH}/{token} accepts GET, POST`);
  });
  return router;
};

const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: z.toJSONSchema(problemSchema) } } });
const html = (description: string) => ({ description, content: { 'text/html': { schema: { type: 'string' } } } });
const tokenParameter = { name: 'token', in: 'path', required: true, schema: { type: 'string', pattern: TOKEN_PATTERN } };
const common = {
  400: problem('Malformed or forged token (nothing changed), or a POST without List-Unsubscribe=One-Click'),
  410: problem('The link expired, or its sender no longer exists (nothing changed)'),
  429: problem('Rate limit exceeded; see the RateLimit and Retry-After headers'),
  503: problem('The database is unavailable; retry after the time in Retry-After'),
};

/** The endpoint in the OpenAPI document: public (no security), HTML on success. */
export const unsubscribeOpenApiPaths = {
  [`${UNSUBSCRIBE_PATH}/{token}`]: {
    get: {
      summary: 'The unsubscribe page of a link from a mail: a form that POSTs the one-click unsubscribe (changes nothing itself)',
      tags: ['email-sequences'], security: [], parameters: [tokenParameter],
      responses: { 200: html('The confirmation page'), ...common },
    },
    post: {
      summary: 'One-click unsubscribe (RFC 8058): the address stops receiving the tenant\'s sequence mail; repeats answer the same',
      tags: ['email-sequences'], security: [], parameters: [tokenParameter],
      requestBody: {
        required: true,
        content: Object.fromEntries(['application/x-www-form-urlencoded', 'multipart/form-data'].map((type) => [type, {
          schema: { type: 'object', properties: { 'List-Unsubscribe': { const: 'One-Click' } }, required: ['List-Unsubscribe'] },
        }])),
      },
      responses: { 200: html('Unsubscribed'), ...common, 413: problem('Body over 4 KiB') },
    },
  },
};
