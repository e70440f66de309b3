// Who sends a tenant's mail: its own SMTP server when it set one (email_smtp_settings), else the
// platform's. The settings row is read with every send, in the transaction that checks the sent-log
// (one indexed row by primary key), and a transport is built once per tenant and settings version:
// a PUT or DELETE of the settings changes the version, and the next send closes the old transport.
import { createTransport, type Transporter } from 'nodemailer';
import { sql } from 'slonik';
import { z } from 'zod';
import type { Config } from '../../core/config.ts';
import type { Keyring } from '../../core/crypto/keyring.ts';
import { openValue } from '../../core/crypto/sealed-value.ts';
import type { TenantTransaction } from '../../core/db/with-tenant.ts';
import { SMTP_SECURITY, smtpPasswordContext, transportSecurity, type StoredSmtpSettings } from '../../core/email-sequences/smtp-settings.ts';

const SMTP_TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 };

/** `from` as nodemailer takes it: it quotes and encodes a display name itself. */
export type Sender = { readonly transport: Transporter; readonly from: string | { readonly name: string; readonly address: string } };

const settingsRow = z.object({
  host: z.string(), port: z.number(), security: z.enum(SMTP_SECURITY), username: z.string().nullable(),
  password_key_id: z.string().nullable(), password_sealed: z.instanceof(Buffer).nullable(),
  from_address: z.string(), from_name: z.string().nullable(), version: z.string(),
});

export const readSmtpSettings = async (tx: TenantTransaction, tenantId: string): Promise<StoredSmtpSettings | null> => {
  const row = await tx.maybeOne(sql.type(settingsRow)`
    SELECT host, port, security, username, password_key_id, password_sealed, from_address, from_name,
           (extract(epoch FROM updated_at) * 1000000)::bigint::text AS version
      FROM email_smtp_settings WHERE tenant_id = ${tenantId}`);
  if (!row) return null;
  return {
    host: row.host, port: row.port, security: row.security, username: row.username,
    password: row.password_key_id === null || row.password_sealed === null ? null : { keyId: row.password_key_id, sealed: row.password_sealed },
    fromAddress: row.from_address, fromName: row.from_name, version: row.version,
  };
};

export const createSenders = (deps: { email: Config['email']; keyring: () => Keyring }) => {
  const platform: Sender = {
    transport: createTransport({ host: deps.email.smtp.host, port: deps.email.smtp.port, secure: false, ...SMTP_TIMEOUTS }),
    from: deps.email.from,
  };
  const tenants = new Map<string, { version: string; sender: Sender }>();

  const build = (tenantId: string, settings: StoredSmtpSettings): Sender => ({
    transport: createTransport({
      host: settings.host, port: settings.port, ...transportSecurity(settings.security), ...SMTP_TIMEOUTS,
      ...(settings.username === null ? {} : {
        auth: {
          user: settings.username,
          pass: settings.password === null ? '' : openValue(deps.keyring(), settings.password, smtpPasswordContext(tenantId)),
        },
      }),
    }),
    from: settings.fromName === null ? settings.fromAddress : { name: settings.fromName, address: settings.fromAddress },
  });

  return {
    /** The sender of this tenant's mail, from its settings as just read (null: the platform's). */
    senderFor(tenantId: string, settings: StoredSmtpSettings | null): Sender {
      const cached = tenants.get(tenantId);
      if (cached && cached.version === settings?.version) return cached.sender;
      cached?.sender.transport.close();
      tenants.delete(tenantId);
      if (settings === null) return platform;
      const sender = build(tenantId, settings);
      tenants.set(tenantId, { version: settings.version, sender });
      return sender;
    },
  };
};
