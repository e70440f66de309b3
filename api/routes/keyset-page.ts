// Keyset pagination, newest first, over (created_at, id): a page starts right after the last row
// of the one before, so rows inserted meanwhile are neither skipped nor repeated. List routes select
// `created_us` (see CREATED_US) and fetch `limit + 1` rows, the extra one telling whether a next page exists.
import { sql } from 'slonik';
import { encodeCursor } from './schemas.ts';

/** The creation time (or the table's other ordering time) in whole microseconds, as text (exact, unlike a JavaScript number of ms). */
export const timeMicros = (column = 'created_at') =>
  sql.fragment`(extract(epoch FROM ${sql.identifier([column])}) * 1000000)::bigint::text AS created_us`;
export const CREATED_US = timeMicros();

/** The rows after a cursor returned by this API. */
export const olderThan = (cursor: { readonly micros: string; readonly id: string }, column = 'created_at') =>
  sql.fragment`(${sql.identifier([column])}, id) < (timestamptz 'epoch' + ${cursor.micros}::bigint * interval '1 microsecond', ${cursor.id}::uuid)`;

/** One page of `limit` items and the cursor of the next, from `limit + 1` rows. */
export const keysetPage = <Row extends { readonly created_us: string; readonly id: string }, Item>(
  rows: readonly Row[], limit: number, toItem: (row: Row) => Item,
): { items: Item[]; nextCursor: string | null } => {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { items: page.map(toItem), nextCursor: rows.length > limit && last ? encodeCursor(last.created_us, last.id) : null };
};
