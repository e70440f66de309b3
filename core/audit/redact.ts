// What the readable audit trail never shows. Row images (data_change_audit) and details (audit_logs)
// are walked whole, at any depth: a key that names a secret loses its value, and a value that is an
// API token loses it whatever its key. A deny rule by name, not a list of today's columns, so a
// secret column added later is hidden without anyone remembering this file.

/** Keys whose values are secrets or what unlocks them: tokens and their hashes, webhook secrets, passwords, sealed or encrypted material, salts. */
const SECRET_KEY = /secret|passw|token|hash|sealed|salt|private|credential|api_?key|access_?key|encryption|cipher|nonce|signing|authorization|cookie/i;

/**
 * Keys the deny rule matches whose values are references, not secrets: a token's id names who acted;
 * a table's name keys its row count (a tenant delete's counts). What is inside is still walked.
 */
const NOT_SECRET_KEYS = new Set(['tokenId', 'token_id', 'tokenIds', 'api_tokens']);

/** Markers of what happened to a secret ('password': 'changed'), which say nothing of its value. */
const CHANGE_MARKERS = new Set(['changed', 'kept', 'removed', 'set', 'rotated']);

/** An API token (`bi_` and 43 base64url characters) wherever it is written. */
const API_TOKEN = /bi_[A-Za-z0-9_-]{43}/g;

export const REDACTED = '[redacted]';

export const isSecretKey = (key: string) => SECRET_KEY.test(key) && !NOT_SECRET_KEYS.has(key);

const redactValue = (value: unknown): unknown => {
  if (typeof value === 'string') return value.replace(API_TOKEN, REDACTED);
  if (Array.isArray(value)) return value.map(redactValue);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key,
      isSecretKey(key) && !(typeof inner === 'string' && CHANGE_MARKERS.has(inner)) && inner !== null ? REDACTED : redactValue(inner)]));
  }
  return value;
};

/** A copy of a JSON object of the trail with every secret replaced by REDACTED; null stays null. */
export const redactSecrets = (value: Record<string, unknown> | null): Record<string, unknown> | null =>
  value === null ? null : redactValue(value) as Record<string, unknown>;
