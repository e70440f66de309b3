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

const reference = z.object({ child: z.string(), parent: z.string() });

/**
 * The tenant tables in an order that deletes every referencing row before the row it references
 * (from the catalogue's foreign keys): a NO ACTION key (leads -> bots) never refuses the delete.
 */
export const tenantTablesChildrenFirst = async (db: CommonQueryMethods): Promise<string[]> => {
  const tables = await tenantTables(db);
  const references = await db.any(sql.type(reference)`
    SELECT DISTINCT child.relname AS child, parent.relname AS parent FROM pg_constraint k
      JOIN pg_class child ON child.oid = k.conrelid JOIN pg_class parent ON parent.oid = k.confrelid
     WHERE k.contype = 'f' AND k.conrelid <> k.confrelid`);
  const ordered: string[] = [];
  const remaining = new Set(tables);
  while (remaining.size > 0) {
    // A table goes once no remaining table references it.
    const ready = [...remaining].filter((table) => !references.some(({ child, parent }) => parent === table && child !== table && remaining.has(child)));
    if (ready.length === 0) throw new Error(`the foreign keys among ${[...remaining].join(', ')} form a cycle`);
    for (const table of ready) { ordered.push(table); remaining.delete(table); }
  }
  return ordered;
};
