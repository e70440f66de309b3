// The database constraints the API words for its clients: a constraint's name -> the problem
// document it answers, in one table, so no route maps constraint errors by hand. `detail` names the
// refused value, read from the request's parsed input; a constraint not listed here, or one whose
// field the request did not send, is a plain 409 "Conflicts with stored data".
import type { ConstraintViolationError } from '../core/errors.ts';

type ConstraintProblem = {
  readonly status: number;
  readonly title: string;
  /** The input field whose value the detail names. */
  readonly field: string;
  readonly detail: (value: string) => string;
};

export const CONSTRAINT_PROBLEMS: Readonly<Record<string, ConstraintProblem>> = {
  tenants_slug_unique: { status: 409, title: 'Slug taken', field: 'slug', detail: (slug) => `a tenant with slug ${slug} exists` },
  users_tenant_email_unique: { status: 409, title: 'E-mail taken', field: 'email', detail: (email) => `${email} is already a user of this tenant` },
  users_email_format: {
    status: 422, title: 'E-mail refused', field: 'email', detail: (email) => `${email} is not an address this platform stores (lower-case ASCII)`,
  },
  products_sku_unique: { status: 409, title: 'SKU taken', field: 'sku', detail: (sku) => `the bot already has a product ${sku}` },
  pipelines_name_unique: { status: 409, title: 'Name taken', field: 'name', detail: (name) => `a pipeline named ${name} exists` },
  owner_webhooks_url_unique: { status: 409, title: 'URL taken', field: 'url', detail: (url) => `the tenant has a webhook for ${url}` },
  email_sequences_name_unique: { status: 409, title: 'Name taken', field: 'name', detail: (name) => `an email sequence named ${name} exists` },
};

export type ProblemFields = { readonly status: number; readonly title: string; readonly detail: string };

/** The problem a constraint violation answers, worded with the request's parsed input when it has the field. */
export const constraintProblem = (error: ConstraintViolationError, input: unknown): ProblemFields => {
  const entry = Object.hasOwn(CONSTRAINT_PROBLEMS, error.constraint) ? CONSTRAINT_PROBLEMS[error.constraint] : undefined;
  const value = typeof input === 'object' && input !== null && entry ? (input as Record<string, unknown>)[entry.field] : undefined;
  if (!entry || typeof value !== 'string') return { status: 409, title: 'Conflicts with stored data', detail: error.message };
  return { status: entry.status, title: entry.title, detail: entry.detail(value) };
};
