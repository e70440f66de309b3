// Row count and an order-independent checksum of every table, read in one snapshot: the sum of
// each row's 64-bit hash (the first 16 hex digits of md5 of its text form). Equal data gives equal
// sums in any physical order; the text form is pinned by the session settings set here, so the
// dump's snapshot and a restored copy compare exactly.
import type pg from 'pg';
import type { TableFingerprint } from './manifest.ts';

/** Tables of the public schema, excluding `excluded`, in name order. */
const listTables = async (client: pg.Client | pg.PoolClient, excluded: readonly string[]) => {
  const { rows } = await client.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT (c.relname = ANY($1::text[])) ORDER BY c.relname`,
    [excluded]);
  return rows.map((row) => row.name);
};

/** Runs inside the caller's transaction (the dump's snapshot, or a restored database). */
export const fingerprintTables = async (client: pg.Client | pg.PoolClient, excluded: readonly string[]): Promise<TableFingerprint[]> => {
  await client.query("SET LOCAL TIME ZONE 'UTC'");
  await client.query("SET LOCAL DateStyle = 'ISO, YMD'");
  await client.query("SET LOCAL IntervalStyle = 'postgres'");
  await client.query('SET LOCAL extra_float_digits = 3');
  const fingerprints: TableFingerprint[] = [];
  for (const table of await listTables(client, excluded)) {
    // The table name is quoted by the server (format %I), never by string building here.
    const { rows: [query] } = await client.query<{ text: string }>(
      `SELECT format('SELECT count(*)::text AS rows, coalesce(sum((''x'' || left(md5(t::text), 16))::bit(64)::bigint::numeric), 0)::text AS checksum
                        FROM public.%I t', $1::text) AS text`, [table]);
    const { rows } = await client.query<{ rows: string; checksum: string }>(query!.text);
    fingerprints.push({ table, rows: Number(rows[0]!.rows), checksum: rows[0]!.checksum });
  }
  return fingerprints;
};

export type FingerprintDifference = { readonly table: string; readonly expected: string; readonly found: string };

/** Tables whose count or checksum differs, and tables present on only one side. */
export const compareFingerprints = (expected: readonly TableFingerprint[], found: readonly TableFingerprint[]): FingerprintDifference[] => {
  const describe = (entry: TableFingerprint | undefined) => (entry ? `${entry.rows} rows, checksum ${entry.checksum}` : 'absent');
  const tables = [...new Set([...expected, ...found].map((entry) => entry.table))].sort();
  return tables.flatMap((table) => {
    const want = expected.find((entry) => entry.table === table);
    const have = found.find((entry) => entry.table === table);
    return want?.rows === have?.rows && want?.checksum === have?.checksum ? [] : [{ table, expected: describe(want), found: describe(have) }];
  });
};
