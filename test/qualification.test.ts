// leads.is_qualified always equals score >= the bot's threshold, whatever changes.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'slonik';
import { z } from 'zod';
import { loadConfig } from '../core/config.ts';
import { createDatabasePools, type DatabasePools } from '../core/db/pools.ts';
import { createWithTenant, type WithTenant } from '../core/db/with-tenant.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

const config = loadConfig();
let pools: DatabasePools;
let withTenant: WithTenant;
let tenant: TenantGraph;

const leadState = z.object({ score: z.number(), is_qualified: z.boolean(), qualified: z.boolean() });
const read = () => withTenant(tenant.tenantId, (tx) => tx.one(sql.type(leadState)`
  SELECT score, is_qualified, qualified_at IS NOT NULL AS qualified FROM leads WHERE id = ${tenant.leadId}`));
const run = (statement: ReturnType<typeof sql.unsafe>) => withTenant(tenant.tenantId, (tx) => tx.query(statement), { actor: 'qualification-test' });

beforeAll(async () => {
  pools = await createDatabasePools(config.database);
  withTenant = createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 });
  tenant = await seedTenant(withTenant);
});
afterAll(async () => {
  await pools.end();
});

describe('qualification', () => {
  it('follows the score against the default threshold of 70', async () => {
    expect(await read()).toEqual({ score: 10, is_qualified: false, qualified: false });
    await run(sql.unsafe`UPDATE leads SET score = 70 WHERE id = ${tenant.leadId}`);
    expect(await read()).toEqual({ score: 70, is_qualified: true, qualified: true });
    await run(sql.unsafe`UPDATE leads SET score = 69 WHERE id = ${tenant.leadId}`);
    expect(await read()).toEqual({ score: 69, is_qualified: false, qualified: false });
  });

  it('ignores a client that writes is_qualified itself', async () => {
    await run(sql.unsafe`UPDATE leads SET is_qualified = true WHERE id = ${tenant.leadId}`);
    expect((await read()).is_qualified).toBe(false);
  });

  it('re-qualifies the bot leads when its threshold changes, in the same transaction', async () => {
    await run(sql.unsafe`UPDATE bots SET qualification_threshold = 50 WHERE id = ${tenant.botId}`);
    expect(await read()).toEqual({ score: 69, is_qualified: true, qualified: true });
    await run(sql.unsafe`UPDATE bots SET qualification_threshold = 100 WHERE id = ${tenant.botId}`);
    expect(await read()).toEqual({ score: 69, is_qualified: false, qualified: false });
  });

  it('holds for every lead of the schema at the end (the integrity check query)', async () => {
    const inconsistent = await pools.maintenance.oneFirst(sql.type(z.object({ n: z.number() }))`
      SELECT count(*)::int AS n FROM leads l JOIN bots b ON b.tenant_id = l.tenant_id AND b.id = l.bot_id
      WHERE l.is_qualified <> (l.score >= b.qualification_threshold OR l.qualified_on_info)`);
    expect(inconsistent).toBe(0);
  });

  it('writes every change of a lead to data_change_audit with the actor', async () => {
    const audit = await withTenant(tenant.tenantId, (tx) => tx.many(sql.type(z.object({ operation: z.string(), changed_by: z.string() }))`
      SELECT operation, changed_by FROM data_change_audit WHERE table_name = 'leads' AND record_id = ${tenant.leadId} ORDER BY changed_at, id`));
    expect(audit[0]).toEqual({ operation: 'INSERT', changed_by: 'test-fixture' });
    expect(audit.filter((row) => row.changed_by === 'qualification-test').length).toBeGreaterThanOrEqual(4);
  });
});
