// Bad data is refused by the database itself, with a typed error that names the constraint.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'slonik';
import { z } from 'zod';
import { CONSTRAINT_PROBLEMS } from '../api/constraint-problems.ts';
import { loadConfig } from '../core/config.ts';
import { createDatabasePools, type DatabasePools } from '../core/db/pools.ts';
import { createWithTenant, type WithTenant } from '../core/db/with-tenant.ts';
import { ConstraintViolationError } from '../core/errors.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

const config = loadConfig();
let pools: DatabasePools;
let withTenant: WithTenant;
let a: TenantGraph;
let b: TenantGraph;

beforeAll(async () => {
  pools = await createDatabasePools(config.database);
  withTenant = createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 });
  [a, b] = [await seedTenant(withTenant), await seedTenant(withTenant)];
});
afterAll(async () => {
  await pools.end();
});

const refusal = async (statement: ReturnType<typeof sql.unsafe>) => {
  const error = await withTenant(a.tenantId, (tx) => tx.query(statement)).then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(ConstraintViolationError);
  const { kind, constraint } = error as ConstraintViolationError;
  return { kind, constraint };
};

describe('constraints', () => {
  it('refuse a phone number that is not E.164', async () => {
    expect(await refusal(sql.unsafe`INSERT INTO leads (tenant_id, bot_id, wa_id, phone_e164) VALUES (${a.tenantId}, ${a.botId}, '5511', '011 5555-1234')`))
      .toEqual({ kind: 'check', constraint: 'leads_phone_e164_format' });
    expect(await refusal(sql.unsafe`UPDATE bots SET phone_e164 = '+0123' WHERE id = ${a.botId}`))
      .toEqual({ kind: 'check', constraint: 'bots_phone_e164_format' });
  });

  it('refuse a malformed or non-normalised e-mail', async () => {
    for (const email of ['not-an-email', 'Someone@Example.com', 'a@b', 'a b@example.com']) {
      expect(await refusal(sql.unsafe`INSERT INTO users (tenant_id, email) VALUES (${a.tenantId}, ${email})`))
        .toEqual({ kind: 'check', constraint: 'users_email_format' });
    }
  });

  it('refuse a negative price and a bad SKU', async () => {
    expect(await refusal(sql.unsafe`INSERT INTO products (tenant_id, bot_id, sku, name, price) VALUES (${a.tenantId}, ${a.botId}, 'N-1', 'P', -0.01)`))
      .toEqual({ kind: 'check', constraint: 'products_price_non_negative' });
    expect(await refusal(sql.unsafe`INSERT INTO products (tenant_id, bot_id, sku, name, price) VALUES (${a.tenantId}, ${a.botId}, '../etc', 'P', 1)`))
      .toEqual({ kind: 'check', constraint: 'products_sku_format' });
  });

  it('refuse a reference to another tenant row (composite foreign keys)', async () => {
    expect(await refusal(sql.unsafe`INSERT INTO products (tenant_id, bot_id, sku, name, price) VALUES (${a.tenantId}, ${b.botId}, 'X-1', 'P', 1)`))
      .toEqual({ kind: 'foreign_key', constraint: 'products_bot_fk' });
    expect(await refusal(sql.unsafe`UPDATE leads SET owner_user_id = ${b.userId} WHERE id = ${a.leadId}`))
      .toEqual({ kind: 'foreign_key', constraint: 'leads_owner_user_fk' });
    expect(await refusal(sql.unsafe`UPDATE leads SET stage_id = ${b.stageIds[0]} WHERE id = ${a.leadId}`))
      .toEqual({ kind: 'foreign_key', constraint: 'leads_stage_fk' });
  });

  it('refuse tenant settings of the wrong shape', async () => {
    expect(await refusal(sql.unsafe`UPDATE tenants SET settings = '{"retentionDays": "ninety"}' WHERE id = ${a.tenantId}`))
      .toEqual({ kind: 'check', constraint: 'tenants_settings_retention_days' });
    expect(await refusal(sql.unsafe`UPDATE tenants SET settings = '[]' WHERE id = ${a.tenantId}`))
      .toEqual({ kind: 'check', constraint: 'tenants_settings_object' });
  });

  it('store a WhatsApp message once per bot (idempotency key)', async () => {
    expect(await refusal(sql.unsafe`
      INSERT INTO lead_messages (tenant_id, bot_id, lead_id, direction, wa_message_id, body)
      VALUES (${a.tenantId}, ${a.botId}, ${a.leadId}, 'inbound', 'WAMID-1', 'again')`))
      .toEqual({ kind: 'unique', constraint: 'lead_messages_wa_message_unique' });
  });

  it("keep a deleted user's leads, unowned (ON DELETE SET NULL of that column only)", async () => {
    const lead = await withTenant(a.tenantId, async (tx) => {
      await tx.query(sql.unsafe`DELETE FROM users WHERE id = ${a.userId}`);
      return tx.one(sql.unsafe`SELECT owner_user_id, assigned_to_user_id, tenant_id FROM leads WHERE id = ${a.leadId}`);
    });
    expect(lead).toEqual({ owner_user_id: null, assigned_to_user_id: null, tenant_id: a.tenantId });
  });

  it('name in the API\'s problem table only constraints the schema has (a renamed one would fall back to a plain 409)', async () => {
    const names = Object.keys(CONSTRAINT_PROBLEMS);
    const found = await pools.app.anyFirst(sql.type(z.object({ name: z.string() }))`
      SELECT conname AS name FROM pg_constraint WHERE conname = ANY(${sql.array(names, 'text')})
      UNION SELECT relname AS name FROM pg_class WHERE relkind = 'i' AND relname = ANY(${sql.array(names, 'text')})`);
    expect([...found].sort()).toEqual([...names].sort());
  });
});
