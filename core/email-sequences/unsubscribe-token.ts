// The signed, expiring token of a one-click unsubscribe link (RFC 8058): which tenant must stop
// mailing which address, until when the link works, and an HMAC-SHA256 over all three. The MAC key
// is derived (HKDF) from a platform keyring key, never the encryption key itself; the token names
// that key's id, so links signed before a rotation keep working while the old key stays listed.
// Token: base64url(JSON payload) "." base64url(MAC over that base64url text).
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { Keyring } from '../crypto/keyring.ts';

/** How long a link in a sent mail works; mail is read late, and a dead link is worse than a kept one. */
export const UNSUBSCRIBE_LINK_DAYS = 60;

const payload = z.strictObject({
  v: z.literal(1),
  k: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
  t: z.uuid(),
  a: z.email().max(320),
  /** Expiry, seconds since the epoch. */
  e: z.number().int().positive(),
});

export type UnsubscribeRequest = { readonly tenantId: string; readonly address: string; readonly expiresAt: Date };
export type TokenCheck =
  | { readonly ok: true; readonly request: UnsubscribeRequest }
  | { readonly ok: false; readonly reason: 'malformed' | 'forged' | 'expired' };

const TOKEN = /^[A-Za-z0-9_-]{1,800}\.[A-Za-z0-9_-]{43}$/;

const macKey = (keyring: Keyring, keyId: string) =>
  Buffer.from(hkdfSync('sha256', keyring.key(keyId), Buffer.alloc(0), 'botinteligente unsubscribe-token v1', 32));
const macOf = (key: Buffer, text: string) => createHmac('sha256', key).update(text).digest();

export const signUnsubscribeToken = (keyring: Keyring, input: { tenantId: string; address: string; now: Date }): string => {
  const body = Buffer.from(JSON.stringify({
    v: 1, k: keyring.activeKeyId, t: input.tenantId, a: input.address.toLowerCase(),
    e: Math.floor(input.now.getTime() / 1000) + UNSUBSCRIBE_LINK_DAYS * 86_400,
  })).toString('base64url');
  return `${body}.${macOf(macKey(keyring, keyring.activeKeyId), body).toString('base64url')}`;
};

/** Forged covers a MAC that does not match and a key this platform does not hold (rotated out, or invented). */
export const checkUnsubscribeToken = (keyring: Keyring, token: string, now: Date): TokenCheck => {
  if (!TOKEN.test(token)) return { ok: false, reason: 'malformed' };
  const [body, mac] = token.split('.') as [string, string];
  let parsed: z.infer<typeof payload>;
  try {
    const result = payload.safeParse(JSON.parse(Buffer.from(body, 'base64url').toString('utf8')));
    if (!result.success) return { ok: false, reason: 'malformed' };
    parsed = result.data;
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  let key: Buffer;
  try {
    key = macKey(keyring, parsed.k);
  } catch {
    return { ok: false, reason: 'forged' };
  }
  if (!timingSafeEqual(macOf(key, body), Buffer.from(mac, 'base64url'))) return { ok: false, reason: 'forged' };
  // Checked after the MAC: only a genuine link is told it expired.
  if (parsed.e * 1000 <= now.getTime()) return { ok: false, reason: 'expired' };
  return { ok: true, request: { tenantId: parsed.t, address: parsed.a, expiresAt: new Date(parsed.e * 1000) } };
};
