// A tenant's own SMTP server for its email sequences: what the API accepts, what the database row
// holds, and the nodemailer options it means. Without a row, the tenant sends through the
// platform's SMTP_HOST. The password is sealed in the row (core/crypto/sealed-value.ts) and opened
// only by the worker, when it builds the tenant's transport.
import { z } from 'zod';
import type { SealedValue } from '../crypto/sealed-value.ts';

export const SMTP_SECURITY = ['none', 'starttls', 'tls'] as const;
export type SmtpSecurity = (typeof SMTP_SECURITY)[number];

/** A DNS name, an IPv4 address or a bracketed IPv6 address; the column's CHECK says the same. */
const SMTP_HOST = /^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$|^\[[0-9A-Fa-f:.]{2,45}\]$/;
// One e-mail form for every address the platform stores (the leads' CHECK, which is lower-case ASCII).
const EMAIL = /^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$/;
// A display name goes into a From header: no line breaks, no quotes or angle brackets to escape.
const DISPLAY_NAME = /^[^\r\n"<>\\]{1,200}$/;

/** An address as the platform stores it: lower-cased. */
export const emailAddress = z.string().max(254).regex(EMAIL, 'must be an e-mail address such as name@example.com')
  .transform((value) => value.toLowerCase());

export const smtpSettingsInput = z.strictObject({
  host: z.string().max(253).regex(SMTP_HOST, 'must be a host name or an IP address'),
  port: z.number().int().min(1).max(65535),
  security: z.enum(SMTP_SECURITY).describe('none: plain SMTP; starttls: upgrade required; tls: TLS from the first byte (usually port 465)'),
  /** Null: the server takes mail without AUTH. */
  login: z.strictObject({
    username: z.string().min(1).max(320).regex(/^[^\r\n]+$/, 'one line'),
    /** Absent: keep the password already set. Null: no password. */
    password: z.string().min(1).max(1000).regex(/^[^\r\n]+$/, 'one line').nullable().optional(),
  }).nullable().default(null),
  fromAddress: emailAddress,
  fromName: z.string().regex(DISPLAY_NAME, '1 to 200 characters, no line breaks, quotes or angle brackets').nullable().default(null),
});
export type SmtpSettingsInput = z.output<typeof smtpSettingsInput>;

export type StoredSmtpSettings = {
  readonly host: string;
  readonly port: number;
  readonly security: SmtpSecurity;
  readonly username: string | null;
  readonly password: SealedValue | null;
  readonly fromAddress: string;
  readonly fromName: string | null;
  /** Changes on every write: a cached transport built from an older version is replaced. */
  readonly version: string;
};

/** nodemailer's options for a server; `none` never upgrades, `starttls` refuses a server that cannot. */
export const transportSecurity = (security: SmtpSecurity) => ({
  none: { secure: false, ignoreTLS: true },
  starttls: { secure: false, requireTLS: true },
  tls: { secure: true },
})[security];

/** The associated data of a tenant's sealed SMTP password: it opens in no other tenant's row. */
export const smtpPasswordContext = (tenantId: string) => `email_smtp_settings.password:${tenantId}`;
