// Tenant isolation from the attacker's side. Driven by the catalog: a future table with a
// tenant_id column but no forced RLS, or a unique key that spans tenants, fails this test.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { loadConfig } from '../core/config.ts';
import { issueToken, revokeToken } from '../api/token-store.ts';
import { createDatabasePools, createTokenAdminPool, type DatabasePools } from '../core/db/pools.ts';
import { createWithTenant, type WithTenant } from '../core/db/with-tenant.ts';
import { TenantIsolationError } from '../core/errors.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

const config = loadConfig();
let pools: DatabasePools;
let tokenPool: DatabasePool;
let withTenant: WithTenant;
let tenantA: TenantGraph;
let tenantB: TenantGraph;
let tenantTables: { table: string; key: string }[];

// Tables whose rows the application may not rewrite or delete at all.
const APPEND_ONLY = new Set(['api_tokens', 'audit_logs', 'bot_session_events', 'data_change_audit', 'lead_events', 'owner_webhook_deliveries']);
// Beyond those: identity pairings are never updated (data-subject erasure deletes them, migration
// 026), an image send only has its lead moved by a merge (032), and the erasure log is never
// deleted by the application.
const UPDATE_DENIED = new Set([...APPEND_ONLY, 'lead_identity_pairings', 'lead_image_sends']);
const DELETE_DENIED = new Set([...APPEND_ONLY, 'data_subject_erasures']);
// ... nor even write: tokens are issued and revoked only by the token role.
const NOT_WRITABLE = new Set(['api_tokens']);
const tableRow = z.object({ table: z.string(), key: z.string() });

const readTenantTables = (pool: DatabasePool) =>
  pool.many(sql.type(tableRow)`
    SELECT c.relname AS "table", CASE WHEN c.relname = 'tenants' THEN 'id' ELSE 'tenant_id' END AS key
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind = 'r'
      AND (c.relname = 'tenants' OR EXISTS (
        SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped))
    ORDER BY 1`);

/** What tenant B has in a table, seen by the maintenance role (count and a digest of the rows). */
const fingerprintOf = (table: string, key: string, tenantId: string) =>
  pools.maintenance.one(sql.type(z.object({ rows: z.number(), digest: z.string().nullable() }))`
    SELECT count(*)::int AS rows, md5(string_agg(t::text, ',' ORDER BY t::text)) AS digest
    FROM ${sql.identifier([table])} t WHERE ${sql.identifier([key])} = ${tenantId}`);

beforeAll(async () => {
  pools = await createDatabasePools(config.database);
  withTenant = createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 });
  tokenPool = await createTokenAdminPool(config.database);
  [tenantA, tenantB] = [await seedTenant(withTenant), await seedTenant(withTenant)];
  for (const { tenantId } of [tenantA, tenantB]) await issueToken(tokenPool, { tenantId, name: 'fixture', expiresAt: null, actor: 'test-fixture' });
  // Left out of the shared fixture: a tenant with SMTP settings no longer sends through the stack's mailpit.
  for (const { tenantId } of [tenantA, tenantB]) {
    await withTenant(tenantId, (tx) => tx.query(sql.unsafe`
      INSERT INTO email_smtp_settings (tenant_id, host, port, security, from_address) VALUES (${tenantId}, 'smtp.example.com', 587, 'starttls', 'sales@example.com')`));
  }
  tenantTables = [...await readTenantTables(pools.maintenance)];
});
afterAll(async () => {
  await Promise.all([pools.end(), tokenPool.end()]);
});

describe('tenant isolation', () => {
  it('covers every tenant-owned table of the schema', () => {
    expect(tenantTables.map((t) => t.table)).toEqual(expect.arrayContaining([
      'api_tokens', 'audit_logs', 'bot_features', 'bot_images', 'bots', 'data_change_audit', 'lead_messages', 'lead_stage_events',
      'leads', 'owner_webhook_deliveries', 'owner_webhooks', 'pipeline_stages', 'pipelines', 'products', 'schedules', 'scoring_rules', 'tenants', 'users',
    ]));
  });

  it('has RLS enabled, forced and a policy on every table with a tenant_id', async () => {
    const rows = await pools.maintenance.many(sql.type(z.object({ table: z.string(), enabled: z.boolean(), forced: z.boolean(), policies: z.number() }))`
      SELECT c.relname AS "table", c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced,
             (SELECT count(*)::int FROM pg_policies p WHERE p.schemaname = 'public' AND p.tablename = c.relname) AS policies
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relname = ANY(${sql.array(tenantTables.map((t) => t.table), 'text')})`);
    expect(rows).toHaveLength(tenantTables.length);
    for (const row of rows) expect({ ...row, policies: row.policies > 0 }).toEqual({ table: row.table, enabled: true, forced: true, policies: true });
  });

  it('runs the application as a role that is not superuser, not BYPASSRLS and owns nothing', async () => {
    const appRole = new URL(config.database.appUrl).username;
    const role = await pools.app.one(sql.type(z.object({ superuser: z.boolean(), bypassrls: z.boolean(), owned: z.number(), me: z.string() }))`
      SELECT r.rolsuper AS superuser, r.rolbypassrls AS bypassrls, current_user AS me,
             (SELECT count(*)::int FROM pg_class c WHERE c.relowner = r.oid) AS owned
      FROM pg_roles r WHERE r.rolname = current_user`);
    expect(role).toEqual({ superuser: false, bypassrls: false, owned: 0, me: appRole });
  });

  it('shows nothing to the application without a tenant context', async () => {
    for (const { table } of tenantTables) {
      await expect(pools.app.oneFirst(sql.type(z.object({ n: z.number() }))`SELECT count(*)::int AS n FROM ${sql.identifier([table])}`))
        .resolves.toBe(0);
    }
  });

  it('lets tenant A neither see nor change tenant B rows, for every table and every command', async () => {
    const before = await Promise.all(tenantTables.map(({ table, key }) => fingerprintOf(table, key, tenantB.tenantId)));
    expect(before.every((fingerprint) => fingerprint.rows > 0)).toBe(true);

    for (const { table, key } of tenantTables) {
      const [t, k] = [sql.identifier([table]), sql.identifier([key])];
      const count = z.object({ n: z.number() });
      await withTenant(tenantA.tenantId, async (tx) => {
        expect([table, await tx.oneFirst(sql.type(count)`SELECT count(*)::int AS n FROM ${t} WHERE ${k} = ${tenantB.tenantId}`)]).toEqual([table, 0]);
        expect([table, await tx.oneFirst(sql.type(count)`SELECT count(*)::int AS n FROM ${t} WHERE ${k} <> ${tenantA.tenantId}`)]).toEqual([table, 0]);
      });
      // In the append-only tables UPDATE and DELETE (of these columns) are not even granted.
      for (const [denied, statement] of [
        [UPDATE_DENIED, sql.unsafe`UPDATE ${t} SET ${k} = ${k} WHERE ${k} = ${tenantB.tenantId}`],
        [DELETE_DENIED, sql.unsafe`DELETE FROM ${t} WHERE ${k} = ${tenantB.tenantId}`],
      ] as const) {
        const outcome = await withTenant(tenantA.tenantId, (tx) => tx.query(statement)).then(
          (result) => `${result.rowCount} rows`,
          (error: Error) => (/permission denied/.test(String(error.message)) ? 'permission denied' : String(error)),
        );
        expect([table, outcome]).toEqual([table, denied.has(table) ? 'permission denied' : '0 rows']);
      }

      // Moving its own rows over to B is refused by the policy's WITH CHECK.
      if (!UPDATE_DENIED.has(table)) await expect(withTenant(tenantA.tenantId, (tx) => tx.query(sql.unsafe`UPDATE ${t} SET ${k} = ${tenantB.tenantId} WHERE ${k} = ${tenantA.tenantId}`)))
        .rejects.toBeInstanceOf(TenantIsolationError);

      // Writing a row into B (a copy of one of B's rows under a new id) is refused.
      const victimRow = await pools.maintenance.oneFirst(sql.type(z.object({ row: z.record(z.string(), z.unknown()) }))`
        SELECT to_jsonb(t) AS row FROM ${t} t WHERE ${k} = ${tenantB.tenantId} LIMIT 1`);
      const forged = { ...victimRow, id: randomUUID(), ...(table === 'tenants' ? { slug: `forged-${randomUUID().slice(0, 8)}` } : {}) };
      const forging = withTenant(tenantA.tenantId, (tx) => tx.query(sql.unsafe`
        INSERT INTO ${t} OVERRIDING SYSTEM VALUE SELECT * FROM jsonb_populate_record(NULL::${t}, ${sql.jsonb(forged as never)})`));
      if (NOT_WRITABLE.has(table)) await expect(forging).rejects.toThrow(/permission denied/);
      else await expect(forging).rejects.toBeInstanceOf(TenantIsolationError);
    }

    const after = await Promise.all(tenantTables.map(({ table, key }) => fingerprintOf(table, key, tenantB.tenantId)));
    expect(after).toEqual(before);
  });

  it('has no unique key spanning tenants, so a unique violation cannot reveal another tenant data', async () => {
    const spanning = await pools.maintenance.any(sql.type(z.object({ index: z.string() }))`
      SELECT i.indexrelid::regclass::text AS index
      FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND i.indisunique AND NOT i.indisprimary
        AND c.relname = ANY(${sql.array(tenantTables.filter((t) => t.table !== 'tenants').map((t) => t.table), 'text')})
        AND NOT EXISTS (
          SELECT 1 FROM pg_attribute a
          WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND a.attnum = ANY(i.indkey))`);
    // The one exception: a token's SHA-256, computed by the server from 32 random bytes; nobody can
    // choose a value that collides with another tenant's without already holding its token.
    expect(spanning).toEqual([{ index: 'api_tokens_hash_unique' }]);
  });

  it('lets tenant A use the same e-mail, SKU and WhatsApp id as tenant B (no oracle)', async () => {
    await withTenant(tenantA.tenantId, async (tx) => {
      await tx.query(sql.unsafe`INSERT INTO users (tenant_id, email) VALUES (${tenantA.tenantId}, ${'second-' + tenantB.email})`);
      await tx.query(sql.unsafe`UPDATE users SET email = 'renamed@example.com' WHERE id = ${tenantA.userId}`);
      await tx.query(sql.unsafe`UPDATE users SET email = ${tenantB.email} WHERE id = ${tenantA.userId}`);
      await tx.query(sql.unsafe`INSERT INTO products (tenant_id, bot_id, sku, name, price) VALUES (${tenantA.tenantId}, ${tenantA.botId}, ${tenantB.sku + 'X'}, 'P', 1)`);
      await tx.query(sql.unsafe`INSERT INTO leads (tenant_id, bot_id, wa_id) VALUES (${tenantA.tenantId}, ${tenantA.botId}, ${tenantB.waId})`);
    });
  });
});

describe('tokens, from the database side', () => {
  const outcome = (attempt: Promise<unknown>) =>
    attempt.then(() => 'allowed', (error: Error) => (/permission denied|does not exist/.test(String(error.message)) ? 'refused' : String(error)));
  const tokenOf = (tenantId: string) => pools.maintenance.oneFirst(sql.type(z.object({ id: z.uuid() }))`
    SELECT id FROM api_tokens WHERE tenant_id = ${tenantId} AND revoked_at IS NULL ORDER BY created_at LIMIT 1`);

  it('refuses the application role minting, revoking and listing tokens, and reading their hashes', async () => {
    const hash = sql.binary(randomBytes(32));
    const [tokenOfA, tokenOfB] = [await tokenOf(tenantA.tenantId), await tokenOf(tenantB.tenantId)];
    const attempts: Record<string, Promise<unknown>> = {
      'mint a platform-admin token (the function of migration 008)': pools.app.query(sql.unsafe`SELECT api_issue_platform_token('intruder', ${hash})`),
      'mint a platform-admin token': pools.app.query(sql.unsafe`SELECT api_issue_token(NULL, 'intruder', ${hash}, NULL)`),
      'revoke a token of another tenant': pools.app.query(sql.unsafe`SELECT api_revoke_token(${tokenOfB})`),
      'list every token': pools.app.query(sql.unsafe`SELECT * FROM api_list_tokens(NULL)`),
      'insert a token into its own tenant': withTenant(tenantA.tenantId, (tx) => tx.query(sql.unsafe`
        INSERT INTO api_tokens (tenant_id, role, name, token_hash) VALUES (${tenantA.tenantId}, 'tenant-admin', 'intruder', ${hash})`)),
      'revoke a token of its own tenant': withTenant(tenantA.tenantId, (tx) => tx.query(sql.unsafe`UPDATE api_tokens SET revoked_at = now() WHERE id = ${tokenOfA}`)),
      'read the token hashes of its own tenant': withTenant(tenantA.tenantId, (tx) => tx.query(sql.unsafe`SELECT token_hash FROM api_tokens`)),
    };
    const outcomes = Object.fromEntries(await Promise.all(Object.entries(attempts).map(async ([what, attempt]) => [what, await outcome(attempt)])));
    expect(outcomes).toEqual(Object.fromEntries(Object.keys(attempts).map((what) => [what, 'refused'])));
    const stillValid = await pools.maintenance.oneFirst(sql.type(z.object({ n: z.number() }))`
      SELECT count(*)::int AS n FROM api_tokens WHERE id IN (${tokenOfA}, ${tokenOfB}) AND revoked_at IS NULL`);
    expect(stillValid).toBe(2);
    // What the application role still reads of its own tenant's tokens: names and dates.
    await expect(withTenant(tenantA.tenantId, (tx) => tx.anyFirst(sql.type(z.object({ name: z.string() }))`SELECT name FROM api_tokens`)))
      .resolves.toContain('fixture');
  });

  it('gives the token role tokens only: no tenant data, whatever tenant it claims', async () => {
    const reads = await Promise.all(['tenants', 'leads', 'api_tokens', 'data_change_audit'].map(async (table) => [table, await outcome(tokenPool.transaction(async (tx) => {
      await tx.query(sql.unsafe`SELECT set_config('app.current_tenant', ${tenantB.tenantId}, true)`);
      return tx.query(sql.unsafe`SELECT * FROM ${sql.identifier([table])}`);
    }))]));
    expect(Object.fromEntries(reads)).toEqual({ tenants: 'refused', leads: 'refused', api_tokens: 'refused', data_change_audit: 'refused' });
  });

  it('keeps token hashes out of the audit trail that the tenant role reads', async () => {
    const issued = (await issueToken(tokenPool, { tenantId: tenantA.tenantId, name: 'audited', expiresAt: null, actor: 'test' }))!;
    await revokeToken(tokenPool, issued.id, 'test');
    const trail = await withTenant(tenantA.tenantId, (tx) => tx.any(sql.type(z.object({
      operation: z.string(), changed_by: z.string(), old_values: z.record(z.string(), z.unknown()).nullable(), new_values: z.record(z.string(), z.unknown()),
    }))`SELECT operation, changed_by, old_values, new_values FROM data_change_audit
        WHERE table_name = 'api_tokens' AND record_id = ${issued.id} ORDER BY changed_at, operation`));
    expect(trail.map((row) => [row.operation, row.changed_by, row.new_values.name])).toEqual([['INSERT', 'test', 'audited'], ['UPDATE', 'test', 'audited']]);
    expect(trail[1]!.new_values.revoked_at).not.toBeNull();
    const withHashes = await pools.maintenance.oneFirst(sql.type(z.object({ n: z.number() }))`
      SELECT count(*)::int AS n FROM data_change_audit WHERE old_values ? 'token_hash' OR new_values ? 'token_hash'`);
    expect(withHashes).toBe(0);
  });
});
