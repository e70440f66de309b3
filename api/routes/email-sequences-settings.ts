// A tenant's own SMTP server for its email sequences (see docs/email-sequences.md, "SMTP settings").
// The password is sealed with the platform keyring before it reaches the database and is never
// answered: GET says only whether one is set. No connection is tried here (the API has no SMTP
// egress); the first send reports a wrong host or password (SmtpTemporaryFailure, SmtpSenderRefused).
import { sql } from 'slonik';
import { z } from 'zod';
import { sealValue } from '../../core/crypto/sealed-value.ts';
import { SMTP_SECURITY, smtpPasswordContext, smtpSettingsInput } from '../../core/email-sequences/smtp-settings.ts';
import type { ApiDeps } from '../deps.ts';
import { auditEmail } from '../email-audit.ts';
import { lazyKeyring } from '../keyring.ts';
import { HttpProblem } from '../problem.ts';
import type { Registry } from '../route.ts';
import { tenantParams } from './schemas.ts';

const settings = z.object({
  host: z.string(), port: z.number().int(), security: z.enum(SMTP_SECURITY),
  login: z.object({ username: z.string(), passwordSet: z.boolean() }).nullable(),
  fromAddress: z.string(), fromName: z.string().nullable(), updatedAt: z.string(),
});
const settingsRow = z.object({
  host: z.string(), port: z.number(), security: z.enum(SMTP_SECURITY), username: z.string().nullable(), password_set: z.boolean(),
  from_address: z.string(), from_name: z.string().nullable(), updated_at: z.number(),
});
const COLUMNS = sql.fragment`host, port, security, username, password_sealed IS NOT NULL AS password_set, from_address, from_name, updated_at`;
const toSettings = (row: z.infer<typeof settingsRow>) => ({
  host: row.host, port: row.port, security: row.security,
  login: row.username === null ? null : { username: row.username, passwordSet: row.password_set },
  fromAddress: row.from_address, fromName: row.from_name, updatedAt: new Date(row.updated_at).toISOString(),
});

export const registerEmailSettingsRoutes = (registry: Registry, deps: ApiDeps) => {
  const keyring = lazyKeyring(deps.config);
  const path = '/tenants/:tenantId/email-settings';

  registry.add({
    method: 'get', path, summary: 'The tenant\'s own SMTP settings (never the password: only whether one is set)', tag: 'email-sequences', access: 'any',
    params: tenantParams, response: settings, problems: { 404: 'No such tenant, or it has no SMTP settings (it sends through the platform\'s server)' },
  }, async ({ params }) => {
    const row = await deps.withTenant(params.tenantId, (tx) => tx.maybeOne(sql.type(settingsRow)`
      SELECT ${COLUMNS} FROM email_smtp_settings WHERE tenant_id = ${params.tenantId}`));
    if (!row) throw new HttpProblem(404, 'Not found', 'this tenant has no SMTP settings: it sends through the platform\'s SMTP server');
    return toSettings(row);
  });

  registry.add({
    method: 'put', path,
    summary: 'Set the tenant\'s SMTP server (replaces the settings; a login without password keeps the one set, null removes it)',
    tag: 'email-sequences', access: 'any', params: tenantParams, body: smtpSettingsInput, response: settings,
  }, async ({ request, params, body: input }) => {
    const actor = `api:${request.principal!.tokenId}`;
    const { tenantId } = params;
    const { login } = input;
    // Sealed before the transaction: a retried transaction writes the same value.
    const sealed = typeof login?.password === 'string' ? sealValue(keyring(), login.password, smtpPasswordContext(tenantId)) : null;
    // A login without a password field: the stored password stays. No login: no password either.
    const keepPassword = login !== null && login.password === undefined;
    return deps.withTenant(tenantId, async (tx) => {
      if (!await tx.exists(sql.unsafe`SELECT 1 FROM tenants WHERE id = ${tenantId}`)) throw new HttpProblem(404, 'Not found', 'no such tenant');
      const row = await tx.one(sql.type(settingsRow)`
        INSERT INTO email_smtp_settings AS s (tenant_id, host, port, security, username, password_key_id, password_sealed, from_address, from_name)
        VALUES (${tenantId}, ${input.host}, ${input.port}, ${input.security}, ${login?.username ?? null}, ${sealed?.keyId ?? null},
                ${sealed === null ? null : sql.binary(sealed.sealed)}, ${input.fromAddress}, ${input.fromName})
        ON CONFLICT (tenant_id) DO UPDATE SET
          host = EXCLUDED.host, port = EXCLUDED.port, security = EXCLUDED.security, username = EXCLUDED.username,
          password_key_id = CASE WHEN ${keepPassword} THEN s.password_key_id ELSE EXCLUDED.password_key_id END,
          password_sealed = CASE WHEN ${keepPassword} THEN s.password_sealed ELSE EXCLUDED.password_sealed END,
          from_address = EXCLUDED.from_address, from_name = EXCLUDED.from_name, updated_at = clock_timestamp()
        RETURNING ${COLUMNS}`);
      await auditEmail(tx, tenantId, actor, 'email.smtp_settings_set', {
        host: input.host, port: input.port, security: input.security, fromAddress: input.fromAddress,
        password: sealed !== null ? 'changed' : keepPassword ? 'kept' : 'removed',
      });
      return toSettings(row);
    }, { actor });
  });

  registry.add({
    method: 'delete', path, summary: 'Remove the tenant\'s SMTP settings: it sends through the platform\'s SMTP server again',
    tag: 'email-sequences', access: 'any', params: tenantParams, response: z.object({ deleted: z.literal(true) }),
    problems: { 404: 'No such tenant, or it has no SMTP settings' },
  }, async ({ request, params }) => {
    const actor = `api:${request.principal!.tokenId}`;
    await deps.withTenant(params.tenantId, async (tx) => {
      const deleted = await tx.maybeOne(sql.unsafe`DELETE FROM email_smtp_settings WHERE tenant_id = ${params.tenantId} RETURNING tenant_id`);
      if (!deleted) throw new HttpProblem(404, 'Not found', 'this tenant has no SMTP settings');
      await auditEmail(tx, params.tenantId, actor, 'email.smtp_settings_deleted', {});
    }, { actor });
    return { deleted: true as const };
  });
};
