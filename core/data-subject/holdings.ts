// Everything a tenant holds about one person, table by table: the catalogue of the tables with
// personal data (read from every migration), each with the predicate that finds the person's rows.
// Export and erasure both read through it, so the export contains exactly what an erasure deletes;
// test/data-subject.test.ts fails when a table with a foreign key to leads is not in it.
import { sql, type FragmentSqlToken } from 'slonik';
import { z } from 'zod';
import type { TenantTransaction } from '../db/with-tenant.ts';
import { phoneForms, type SubjectIdentifiers } from './subject.ts';

/** The person as the tenant's rows name them: every identifier found, and their leads. */
export type MatchedSubject = SubjectIdentifiers & { readonly leadIds: readonly string[]; readonly waIds: readonly string[] };

const text = (values: readonly string[]) => sql.array([...values], 'text');
const uuids = (values: readonly string[]) => sql.array([...values], 'uuid');
const byLead = (subject: MatchedSubject) => sql.fragment`lead_id = ANY(${uuids(subject.leadIds)})`;

type Holding = {
  /** The person's rows of the table (the tenant filter is added by the caller). */
  readonly rows: (subject: MatchedSubject) => FragmentSqlToken;
  /** How erasure removes them: its own DELETE, or the ON DELETE CASCADE of their lead. */
  readonly erasedBy: 'delete' | 'lead-cascade';
};

/** Every table holding the person's data, in the order an erasure deletes them (leads' children by cascade). */
export const DATA_SUBJECT_HOLDINGS = {
  leads: { rows: (subject) => sql.fragment`id = ANY(${uuids(subject.leadIds)})`, erasedBy: 'delete' },
  lead_messages: { rows: byLead, erasedBy: 'lead-cascade' },
  lead_stage_events: { rows: byLead, erasedBy: 'lead-cascade' },
  // The owner notifications of the lead (`lead.qualified`, with its wa_id), delivered to owner webhooks.
  lead_events: { rows: byLead, erasedBy: 'lead-cascade' },
  lead_identity_pairings: {
    rows: (subject) => sql.fragment`(phone_e164 = ANY(${text(subject.phones)}) OR lid = ANY(${text(subject.lids)}))`, erasedBy: 'delete',
  },
  // A message the conversation could not ingest, kept as the bot pod delivered it.
  dead_letters: {
    rows: (subject) => sql.fragment`(message ->> 'waId' = ANY(${text(subject.waIds)}) OR message ->> 'phoneE164' = ANY(${text(subject.phones)})
      OR message ->> 'lid' = ANY(${text(subject.lids)}))`,
    erasedBy: 'delete',
  },
  // The person's sequence enrolments (their lead's, or any to their address); their sent-log follows by cascade too.
  email_enrollments: {
    rows: (subject) => sql.fragment`(${byLead(subject)} OR address = ANY(${text(subject.emails)}))`, erasedBy: 'delete',
  },
  email_deliveries: { rows: (subject) => sql.fragment`lower(recipient) = ANY(${text(subject.emails)})`, erasedBy: 'delete' },
  email_suppressions: { rows: (subject) => sql.fragment`address = ANY(${text(subject.emails)})`, erasedBy: 'delete' },
  // Which leads a schedule's firing followed up (its message is in lead_messages).
  schedule_follow_ups: { rows: byLead, erasedBy: 'lead-cascade' },
  // Which product images the bot sent the person, and when.
  lead_image_sends: { rows: byLead, erasedBy: 'lead-cascade' },
} satisfies Record<string, Holding>;

export type HoldingTable = keyof typeof DATA_SUBJECT_HOLDINGS;
export const HOLDING_TABLES = Object.keys(DATA_SUBJECT_HOLDINGS) as HoldingTable[];

const lead = z.object({ id: z.uuid(), wa_id: z.string(), phone_e164: z.string().nullable(), lid: z.string().nullable(), email: z.string().nullable() });
const pairing = z.object({ phone_e164: z.string(), lid: z.string() });

/** How many rounds of "identifiers -> leads -> their identifiers" a match follows (a phone, its lid, that lid's lead's e-mail). */
const MAX_ROUNDS = 4;

/**
 * The person's leads in the tenant, and every identifier that names them: the given ones, the phones,
 * lids and e-mails of the leads they match, and the lids WhatsApp paired with their phones
 * (lead_identity_pairings), followed until nothing new is found.
 */
export const matchSubject = async (tx: TenantTransaction, tenantId: string, given: SubjectIdentifiers): Promise<MatchedSubject> => {
  const phones = new Set(given.phones);
  const lids = new Set(given.lids);
  const emails = new Set(given.emails);
  let leads: readonly z.infer<typeof lead>[] = [];
  for (let round = 0; round < MAX_ROUNDS; round += 1) {
    const size = phones.size + lids.size + emails.size;
    for (const paired of await tx.any(sql.type(pairing)`
      SELECT phone_e164, lid FROM lead_identity_pairings
       WHERE tenant_id = ${tenantId} AND (phone_e164 = ANY(${text([...phones])}) OR lid = ANY(${text([...lids])}))`)) {
      phoneForms(paired.phone_e164).forEach((phone) => phones.add(phone));
      lids.add(paired.lid);
    }
    const keys = [...[...phones].map((phone) => phone.slice(1)), ...lids];
    leads = await tx.any(sql.type(lead)`
      SELECT id, wa_id, phone_e164, lid, email FROM leads
       WHERE tenant_id = ${tenantId} AND (phone_e164 = ANY(${text([...phones])}) OR wa_id = ANY(${text(keys)})
          OR lid = ANY(${text([...lids])}) OR email = ANY(${text([...emails])}))
       ORDER BY created_at, id`);
    for (const found of leads) {
      if (found.phone_e164 !== null) phoneForms(found.phone_e164).forEach((phone) => phones.add(phone));
      if (found.lid !== null) lids.add(found.lid);
      if (found.email !== null) emails.add(found.email);
    }
    if (phones.size + lids.size + emails.size === size) break;
  }
  const waIds = new Set([...[...phones].map((phone) => phone.slice(1)), ...lids, ...leads.map((found) => found.wa_id)]);
  return { phones: [...phones].sort(), lids: [...lids].sort(), emails: [...emails].sort(), leadIds: leads.map((found) => found.id), waIds: [...waIds].sort() };
};

const rows = z.object({ rows: z.array(z.record(z.string(), z.unknown())) });

/** The person's rows of one table, as JSON objects (every column). */
export const holdingRows = async (tx: TenantTransaction, tenantId: string, table: HoldingTable, subject: MatchedSubject) =>
  tx.oneFirst(sql.type(rows)`
    SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY to_jsonb(t) ->> 'id'), '[]'::jsonb) AS rows
      FROM ${sql.identifier([table])} t WHERE t.tenant_id = ${tenantId} AND ${DATA_SUBJECT_HOLDINGS[table].rows(subject)}`);

/** The person's rows of every table. */
export const allHoldings = async (tx: TenantTransaction, tenantId: string, subject: MatchedSubject) => {
  const tables = {} as Record<HoldingTable, Record<string, unknown>[]>;
  for (const table of HOLDING_TABLES) tables[table] = await holdingRows(tx, tenantId, table, subject);
  return tables;
};

/** Identifiers that, found in an audit or integrity record, make it the person's (core/data-subject/erase.ts). */
export const subjectNeedles = (subject: MatchedSubject): string[] =>
  [...new Set([...subject.phones, ...subject.waIds, ...subject.lids, ...subject.emails])];
