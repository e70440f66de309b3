// The floor of the lead-list benchmark: the lead list's own SQL (built by the route's leadListQuery),
// in a transaction with the same tenant set_config, as the application role (RLS applies), through
// a bare pg.Pool of the API's size on bare Express. No auth, rate limit, validation, metrics or logs:
// what a request costs when it does only its database work. Usage: node bench/bare-pg-floor.ts <port>
import express from 'express';
import pg from 'pg';
import { leadListQuery } from '../api/routes/leads.ts';
import { loadConfigOrExit } from '../core/config.ts';
import { encodeCursor } from '../api/routes/schemas.ts';

const PAGE = 50;
const config = loadConfigOrExit();
const pool = new pg.Pool({ connectionString: config.database.appUrl, max: config.database.poolMax });
const queries = new Map<string, { text: string; values: unknown[] }>();
// slonik numbers its placeholders $slonik_1…; pg takes them as $1….
const asPgQuery = ({ sql, values }: { sql: string; values: readonly unknown[] }) => ({ text: sql.replace(/\$slonik_(\d+)/g, '$$$1'), values: [...values] });

const app = express();
app.get('/tenants/:tenantId/leads', async (request, response) => {
  const { tenantId } = request.params;
  const query = queries.get(tenantId) ?? asPgQuery(leadListQuery(tenantId, { limit: PAGE }));
  queries.set(tenantId, query);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT set_config(\'app.current_tenant\', $1, true)', [tenantId]);
    const { rows } = await client.query(query.text, query.values);
    await client.query('COMMIT');
    const last = rows[PAGE - 1] as { created_us: string; id: string } | undefined;
    response.json({ items: rows.slice(0, PAGE), nextCursor: rows.length > PAGE && last ? encodeCursor(last.created_us, last.id) : null });
  } finally {
    client.release();
  }
});
app.listen(Number(process.argv[2]), '127.0.0.1', () => process.stdout.write('bare pg floor ready\n'));
