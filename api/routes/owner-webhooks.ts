// Owner webhooks: where a tenant's owner events (lead.qualified) are POSTed, signed with the
// webhook's secret (docs/owner-notification.md). The server generates each secret, seals it with
// the platform keyring before it reaches the database, and answers it once, on create and on
// rotation; nothing reads it back. A rotation has no grace period: the next attempt, even of a
// delivery being retried, is signed with the new secret only.
import { randomUUID } from 'node:crypto';
import { sql } from 'slonik';
import { z } from 'zod';
import type { TenantTransaction } from '../../core/db/with-tenant.ts';
import { newWebhookSecret, sealWebhookSecret } from '../../core/owner-notification/webhook-secret.ts';
import { assertPublicTarget, WebhookTargetError } from '../../core/owner-notification/webhook-target.ts';
import type { ApiDeps } from '../deps.ts';
import { lazyKeyring } from '../keyring.ts';
import { HttpProblem } from '../problem.ts';
import type { Registry } from '../route.ts';
import { registerOwnerWebhookDeliveryRoutes } from './owner-webhooks-deliveries.ts';
import { tenantParams } from './schemas.ts';

// The CHECK owner_webhooks_url_format of migration 007, plus what fetch refuses (credentials in the URL).
const URL_FORMAT = /^https?:\/\/[^\s/?#]+[^\s]*$/;
const parsedWithoutCredentials = (value: string) => URL.canParse(value) && new URL(value).username === '' && new URL(value).password === '';
const webhookUrl = z.string().max(2048, { abort: true }).regex(URL_FORMAT, { message: 'must be an http or https URL', abort: true })
  .refine(parsedWithoutCredentials, 'must be a URL without a user name or password');

export const webhookParams = z.strictObject({ tenantId: z.uuid(), webhookId: z.uuid() });
const webhook = z.object({ id: z.uuid(), url: z.string(), active: z.boolean(), createdAt: z.string(), updatedAt: z.string() });
const withSecret = webhook.extend({ secret: z.string().describe('The signing secret: shown this once, never again') });
const webhookRow = z.object({ id: z.uuid(), url: z.string(), active: z.boolean(), created_at: z.number(), updated_at: z.number() });
const COLUMNS = sql.fragment`id, url, active, created_at, updated_at`;
const toWebhook = (row: z.infer<typeof webhookRow>) => ({
  id: row.id, url: row.url, active: row.active, createdAt: new Date(row.created_at).toISOString(), updatedAt: new Date(row.updated_at).toISOString(),
});

export const auditOwnerWebhook = (tx: TenantTransaction, tenantId: string, actor: string, action: string, details: Record<string, string | number | boolean | null>) =>
  tx.query(sql.unsafe`INSERT INTO audit_logs (tenant_id, actor, action, details) VALUES (${tenantId}, ${actor}, ${action}, ${sql.jsonb(details)})`);

export const registerOwnerWebhookRoutes = (registry: Registry, deps: ApiDeps) => {
  const path = '/tenants/:tenantId/owner-webhooks';
  const tag = 'owner webhooks';
  const notFound = () => new HttpProblem(404, 'Not found', 'no such webhook');
  const keyring = lazyKeyring(deps.config);
  // Sealed before the transaction: a retried transaction writes the same value.
  const sealedSecret = (tenantId: string, webhookId: string) => {
    const secret = newWebhookSecret();
    const { keyId, sealed } = sealWebhookSecret(keyring(), secret, { tenantId, webhookId });
    return { secret, keyId, sealed: sql.binary(sealed) };
  };

  // The delivery's SSRF rule, applied when the URL is given, so a refused target is a 422 now, not a failed delivery later.
  const checkTarget = async (url: string) => {
    if (deps.config.conversation.ownerWebhookAllowPrivateNetworks) return;
    try {
      await assertPublicTarget(new URL(url));
    } catch (error) {
      if (error instanceof WebhookTargetError) throw new HttpProblem(422, 'Webhook URL refused', error.message);
      const code = (error as { code?: unknown }).code;
      if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'ENODATA') {
        throw new HttpProblem(422, 'Webhook URL refused', `webhook host ${new URL(url).hostname} does not resolve`);
      }
      throw error;
    }
  };

  registry.add({
    method: 'get', path, summary: 'List the tenant\'s owner webhooks (never their secrets)', tag, access: 'any', params: tenantParams,
    response: z.object({ items: z.array(webhook) }),
  }, async ({ params }) => ({
    items: (await deps.withTenant(params.tenantId, (tx) => tx.any(sql.type(webhookRow)`
      SELECT ${COLUMNS} FROM owner_webhooks WHERE tenant_id = ${params.tenantId} ORDER BY created_at, id`))).map(toWebhook),
  }));

  registry.add({
    method: 'post', path, summary: 'Add an owner webhook; the answer holds its signing secret, shown this once', tag, access: 'any',
    params: tenantParams, status: 201, body: z.strictObject({ url: webhookUrl, active: z.boolean().default(true) }), response: withSecret,
    problems: { 404: 'No such tenant', 409: 'The tenant has a webhook with this URL', 422: 'The URL\'s host is, or resolves to, a non-public address, or does not resolve' },
  }, async ({ principal, params, body }) => {
    await checkTarget(body.url);
    const actor = `api:${principal.tokenId}`;
    const webhookId = randomUUID();
    const { secret, keyId, sealed } = sealedSecret(params.tenantId, webhookId);
    return deps.withTenant(params.tenantId, async (tx) => {
      if (!await tx.exists(sql.unsafe`SELECT 1 FROM tenants WHERE id = ${params.tenantId}`)) throw new HttpProblem(404, 'Not found', 'no such tenant');
      const row = await tx.one(sql.type(webhookRow)`
        INSERT INTO owner_webhooks (id, tenant_id, url, secret_key_id, secret_sealed, active)
        VALUES (${webhookId}, ${params.tenantId}, ${body.url}, ${keyId}, ${sealed}, ${body.active}) RETURNING ${COLUMNS}`);
      await auditOwnerWebhook(tx, params.tenantId, actor, 'owner_webhook.created', { webhookId: row.id, url: row.url, active: row.active });
      return { ...toWebhook(row), secret };
    }, { actor });
  });

  registry.add({
    method: 'patch', path: `${path}/:webhookId`, summary: 'Disable or enable an owner webhook (a disabled one is sent nothing, not even retries)', tag,
    access: 'any', params: webhookParams, body: z.strictObject({ active: z.boolean() }), response: webhook,
  }, async ({ principal, params, body }) => {
    const actor = `api:${principal.tokenId}`;
    return deps.withTenant(params.tenantId, async (tx) => {
      const row = await tx.maybeOne(sql.type(webhookRow)`
        UPDATE owner_webhooks SET active = ${body.active} WHERE tenant_id = ${params.tenantId} AND id = ${params.webhookId} RETURNING ${COLUMNS}`);
      if (!row) throw notFound();
      await auditOwnerWebhook(tx, params.tenantId, actor, body.active ? 'owner_webhook.enabled' : 'owner_webhook.disabled', { webhookId: row.id });
      return toWebhook(row);
    }, { actor });
  });

  registry.add({
    method: 'post', path: `${path}/:webhookId/rotate-secret`,
    summary: 'Replace an owner webhook\'s secret, shown this once; the old one signs nothing more, not even retries under way', tag,
    access: 'any', params: webhookParams, response: withSecret,
  }, async ({ principal, params }) => {
    const actor = `api:${principal.tokenId}`;
    const { secret, keyId, sealed } = sealedSecret(params.tenantId, params.webhookId);
    return deps.withTenant(params.tenantId, async (tx) => {
      // A plain secret written by SQL before migration 034 is replaced by a sealed one.
      const row = await tx.maybeOne(sql.type(webhookRow)`
        UPDATE owner_webhooks SET secret = NULL, secret_key_id = ${keyId}, secret_sealed = ${sealed} WHERE tenant_id = ${params.tenantId} AND id = ${params.webhookId} RETURNING ${COLUMNS}`);
      if (!row) throw notFound();
      await auditOwnerWebhook(tx, params.tenantId, actor, 'owner_webhook.secret_rotated', { webhookId: row.id });
      return { ...toWebhook(row), secret };
    }, { actor });
  });

  registry.add({
    method: 'delete', path: `${path}/:webhookId`, summary: 'Remove an owner webhook and its delivery log', tag, access: 'any', params: webhookParams,
    response: z.object({ webhookId: z.uuid(), deliveriesDeleted: z.number().int() }),
  }, async ({ principal, params }) => {
    const actor = `api:${principal.tokenId}`;
    return deps.withTenant(params.tenantId, async (tx) => {
      const deliveriesDeleted = await tx.maybeOneFirst(sql.type(z.object({ n: z.number() }))`
        SELECT (SELECT count(*)::int FROM owner_webhook_deliveries d WHERE d.tenant_id = w.tenant_id AND d.webhook_id = w.id) AS n
          FROM owner_webhooks w WHERE w.tenant_id = ${params.tenantId} AND w.id = ${params.webhookId} FOR UPDATE`);
      if (deliveriesDeleted === null) throw notFound();
      // ON DELETE CASCADE: the delivery log goes with it.
      await tx.query(sql.unsafe`DELETE FROM owner_webhooks WHERE tenant_id = ${params.tenantId} AND id = ${params.webhookId}`);
      await auditOwnerWebhook(tx, params.tenantId, actor, 'owner_webhook.deleted', { webhookId: params.webhookId, deliveriesDeleted });
      return { webhookId: params.webhookId, deliveriesDeleted };
    }, { actor });
  });

  registerOwnerWebhookDeliveryRoutes(registry, deps, { path, tag, notFound });
};
