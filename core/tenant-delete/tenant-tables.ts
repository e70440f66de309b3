// The tenant's rows, table by table, found from the catalogue (every table with a tenant_id column,
// and the tenants row itself): a table added later is counted and deleted without a change here.
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';

const tableName = z.object({ name: z.string() });

/** Every table of the public schema with a tenant_id column, by name. */
export const tenantTables = async (db: CommonQueryMethods): Promise<string[]> =>
  [...await db.anyFirst(sql.type(tableName)`
    SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relkind = 'r'
       AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
     ORDER BY c.relname`)];

const count = z.object({ count: z.number() });

/** Rows of the tenant per table (the `tenants` row under `tenants`); tables with none are left out. Needs BYPASSRLS. */
export const countTenantRows = async (db: CommonQueryMethods, tenantId: string): Promise<Record<string, number>> => {
  const counts: Record<string, number> = {};
  const tenantRow = await db.oneFirst(sql.type(count)`SELECT count(*)::int AS count FROM tenants WHERE id = ${tenantId}`);
  if (tenantRow > 0) counts.tenants = tenantRow;
  for (const table of await tenantTables(db)) {
    const rows = await db.oneFirst(sql.type(count)`SELECT count(*)::int AS count FROM ${sql.identifier(['public', table])} WHERE tenant_id = ${tenantId}`);
    if (rows > 0) counts[table] = rows;
  }
  return counts;
};
