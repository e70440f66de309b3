// Finds logged rows by key. The key is stored as text; comparing the column cast to text would
// scan the whole table for every row a fix logs or an undo restores (lead_messages holds millions),
// so the keys are cast to the column's own type instead and its index answers.
import { sql, type FragmentSqlToken } from 'slonik';

/** `<alias>.<keyColumn>` is one of `keys` (text), compared in the column's own type. */
export const keyIn = (alias: string, table: string, keyColumn: string, keys: readonly string[]): FragmentSqlToken => sql.fragment`
  ${sql.identifier([alias, keyColumn])} = ANY(ARRAY(
    SELECT (jsonb_populate_record(NULL::${sql.identifier(['public', table])}, jsonb_build_object(${keyColumn}::text, key))).${sql.identifier([keyColumn])}
      FROM unnest(${sql.array([...keys], 'text')}::text[]) AS key))`;
