// Who a data-subject request is about: one WhatsApp contact (a phone number, a phone JID or an
// `@lid`) or one e-mail address, normalised the way leads store them (leads.phone_e164 is E.164,
// leads.wa_id the phone's digits or the lid, leads.lid the lid's digits; e-mail lower-case). A
// Brazilian mobile is matched in both its forms, with and without the ninth digit (as the
// duplicate-lead-identity check does), since WhatsApp has delivered both for one line.
import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';

// E.164 (the + optional), a phone JID (`<digits>[:device]@s.whatsapp.net` or `@c.us`) or a lid JID
// (`<digits>[:device]@lid`). Exact, so every input the schema (and the OpenAPI document) accepts names someone.
const PHONE_INPUT = /^(\+?[1-9][0-9]{7,14}|[1-9][0-9]{7,14}(:[0-9]{1,4})?@(s\.whatsapp\.net|c\.us)|[0-9]{1,32}(:[0-9]{1,4})?@lid)$/;

// The address shape leads may store (migration 003's leads_email_format), in any case.
const EMAIL_INPUT = /^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$/;

export const dataSubjectBody = z.union([
  z.strictObject({ phone: z.string().regex(PHONE_INPUT, 'an E.164 phone number (8 to 15 digits, country code first), a phone JID or a <digits>@lid JID') }),
  z.strictObject({ email: z.string().max(254).regex(EMAIL_INPUT, 'an e-mail address such as maria@example.com') }),
]);
export type DataSubjectBody = z.infer<typeof dataSubjectBody>;

/** The identifiers that name the person in the tenant's rows. */
export type SubjectIdentifiers = {
  /** E.164, every form of the number. */
  readonly phones: readonly string[];
  readonly lids: readonly string[];
  readonly emails: readonly string[];
};

export type DataSubject = SubjectIdentifiers & {
  /** One string per person: `phone:<E.164, nine-digit form>`, `lid:<digits>` or `email:<address>`. */
  readonly canonical: string;
};

const NINE_DIGIT_BRAZILIAN_MOBILE = /^\+55([1-9]{2})9([6-9][0-9]{7})$/;
const EIGHT_DIGIT_BRAZILIAN_MOBILE = /^\+55([1-9]{2})([6-9][0-9]{7})$/;

/** Both forms of a Brazilian mobile (the nine-digit one first), or the number alone. */
export const phoneForms = (e164: string): string[] => {
  const nine = NINE_DIGIT_BRAZILIAN_MOBILE.exec(e164);
  if (nine) return [e164, `+55${nine[1]}${nine[2]}`];
  const eight = EIGHT_DIGIT_BRAZILIAN_MOBILE.exec(e164);
  return eight ? [`+55${eight[1]}9${eight[2]}`, e164] : [e164];
};

/** The person a request names (the body is parsed by `dataSubjectBody`). */
export const dataSubjectOf = (body: DataSubjectBody): DataSubject => {
  if ('email' in body) {
    const email = body.email.toLowerCase();
    return { phones: [], lids: [], emails: [email], canonical: `email:${email}` };
  }
  const user = body.phone.split('@')[0]!.split(':')[0]!;
  if (body.phone.endsWith('@lid')) return { phones: [], lids: [user], emails: [], canonical: `lid:${user}` };
  const phones = phoneForms(`+${user.replace(/^\+/, '')}`);
  return { phones, lids: [], emails: [], canonical: `phone:${phones[0]}` };
};

/** A fresh salt for one request's hash (hex, 16 bytes). */
export const newSalt = (): string => randomBytes(16).toString('hex');

/**
 * sha256(salt:canonical), hex: what the audit keeps of the person. Pseudonymous, not anonymous: a
 * phone number can be found again by trying every number with the salt (docs/data-subject.md).
 */
export const subjectHash = (salt: string, canonical: string): string => createHash('sha256').update(`${salt}:${canonical}`).digest('hex');
