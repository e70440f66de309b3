// Lead details a WhatsApp user states in plain text (Portuguese and English), pure and bounded:
// every expression is linear (no nested quantifiers) and the input is capped.
export type LeadInfo = { readonly name?: string; readonly email?: string; readonly company?: string };
export const LEAD_FIELDS = ['name', 'email', 'company'] as const;
export type LeadField = (typeof LEAD_FIELDS)[number];

const MAX_SCAN = 4_000;
const EMAIL = /[a-z0-9._%+-]{1,64}@[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63}){0,5}\.[a-z]{2,24}/i;
// Trigger phrases spelled with their capitals: an /i flag would also make \p{Lu} match lower case.
const NAME = /\b(?:[Mm]eu nome (?:é|e)|[Mm]e chamo|[Mm]y name is|I am|I'm|[Ss]ou (?:o|a))\s+([\p{Lu}][\p{L}'-]{1,40}(?:\s[\p{Lu}][\p{L}'-]{1,40}){0,3})/u;
const COMPANY = /\b(?:trabalho na|trabalho no|da empresa|empresa|i work at|from company|company is)\s+([\p{L}\p{N}][\p{L}\p{N}&-]{0,60}(?:\s[\p{Lu}\p{N}][\p{L}\p{N}&-]{0,60}){0,3})/iu;

export const extractLeadInfo = (text: string): LeadInfo => {
  const scanned = text.slice(0, MAX_SCAN).normalize('NFC');
  const email = EMAIL.exec(scanned)?.[0]?.toLowerCase();
  const name = NAME.exec(scanned)?.[1];
  const company = COMPANY.exec(scanned)?.[1];
  return { ...(name ? { name } : {}), ...(email ? { email } : {}), ...(company ? { company } : {}) };
};

/** What the bot still has to ask among the tenant's fields, in the order it asks. */
export const missingLeadFields = (known: Partial<Record<LeadField, string | null>>, fields: readonly LeadField[] = LEAD_FIELDS): LeadField[] =>
  fields.filter((field) => !known[field]);

/** Keeps only the details the tenant collects. */
export const pickLeadFields = (info: LeadInfo, fields: readonly LeadField[]): LeadInfo =>
  Object.fromEntries(Object.entries(info).filter(([field]) => (fields as readonly string[]).includes(field)));
