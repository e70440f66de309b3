// Bot archive and unarchive through the API: the archived bot leaves the list of bots its pod runs
// (what the pod asks every few seconds), its leads stay, each change is audited once; a paused bot
// is not unarchived; another tenant's bot is 404.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { createPodBotsActivities } from '../activities/pod-bots.ts';
import { loadConfig } from '../core/config.ts';
import { createDatabasePools, createTokenAdminPool, type DatabasePools } from '../core/db/pools.ts';
import { createWithTenant, type WithTenant } from '../core/db/with-tenant.ts';
import { startEmailApi } from './support/email-api.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

const config = loadConfig();
let pools: DatabasePools;
let tokenPool: DatabasePool;
let withTenant: WithTenant;
let tenantA: TenantGraph;
let tenantB: TenantGraph;
let api: Awaited<ReturnType<typeof startEmailApi>>;
let tokenA: string;

const botPath = (tenant: TenantGraph, suffix: string) => `/tenants/${tenant.tenantId}/bots/${tenant.botId}/${suffix}`;
const auditActions = (tenant: TenantGraph) => withTenant(tenant.tenantId, async (tx) => [...await tx.anyFirst(sql.type(z.object({ action: z.string() }))`
  SELECT action FROM audit_logs WHERE tenant_id = ${tenant.tenantId} AND action LIKE 'bot.%' ORDER BY created_at, id`)]);

beforeAll(async () => {
  pools = await createDatabasePools(config.database);
  tokenPool = await createTokenAdminPool(config.database);
  withTenant = createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 });
  [tenantA, tenantB] = [await seedTenant(withTenant), await seedTenant(withTenant)];
  api = await startEmailApi(config, { pools, tokenPool, withTenant });
  tokenA = await api.tokenFor(tenantA.tenantId);
});
afterAll(async () => {
  await api.stop();
  await Promise.all([pools.end(), tokenPool.end()]);
});

describe('bot archive', () => {
  it('archives a bot: its pod no longer runs it, its leads stay, audited once; unarchived it runs again', async () => {
    const podBots = createPodBotsActivities({ withTenant });
    expect(await podBots.listActiveBots(tenantA.tenantId)).toEqual([tenantA.botId]);

    const archived = await api.call('POST', botPath(tenantA, 'archive'), tokenA);
    expect(archived).toEqual({ status: 200, json: { botId: tenantA.botId, status: 'archived', previousStatus: 'active' } });
    expect(await podBots.listActiveBots(tenantA.tenantId)).toEqual([]);
    const leads = await api.call('GET', `/tenants/${tenantA.tenantId}/leads`, tokenA);
    expect(leads.json.items!.map((lead) => lead.id)).toContain(tenantA.leadId);
    // Again: no change, no second audit row.
    expect((await api.call('POST', botPath(tenantA, 'archive'), tokenA)).json).toMatchObject({ status: 'archived', previousStatus: 'archived' });
    expect(await auditActions(tenantA)).toEqual(['bot.archived']);

    const unarchived = await api.call('POST', botPath(tenantA, 'unarchive'), tokenA);
    expect(unarchived).toEqual({ status: 200, json: { botId: tenantA.botId, status: 'active', previousStatus: 'archived' } });
    expect(await podBots.listActiveBots(tenantA.tenantId)).toEqual([tenantA.botId]);
    expect(await auditActions(tenantA)).toEqual(['bot.archived', 'bot.unarchived']);
  });

  it('does not unarchive a paused bot (409), and answers 404 for another tenant\'s bot or an unknown one', async () => {
    await withTenant(tenantA.tenantId, (tx) => tx.query(sql.unsafe`UPDATE bots SET status = 'paused' WHERE tenant_id = ${tenantA.tenantId} AND id = ${tenantA.botId}`));
    const paused = await api.call('POST', botPath(tenantA, 'unarchive'), tokenA);
    expect(paused.status).toBe(409);
    expect(paused.json.detail).toMatch(/paused/);
    await withTenant(tenantA.tenantId, (tx) => tx.query(sql.unsafe`UPDATE bots SET status = 'active' WHERE tenant_id = ${tenantA.tenantId} AND id = ${tenantA.botId}`));

    for (const suffix of ['archive', 'unarchive']) {
      expect((await api.call('POST', botPath(tenantB, suffix), tokenA)).status).toBe(404);
      const otherBot = `/tenants/${tenantA.tenantId}/bots/${tenantB.botId}/${suffix}`;
      expect((await api.call('POST', otherBot, tokenA)).status).toBe(404);
    }
    expect((await api.call('POST', `/tenants/${tenantA.tenantId}/bots/not-a-uuid/archive`, tokenA)).status).toBe(400);
    const statusB = await withTenant(tenantB.tenantId, (tx) => tx.oneFirst(sql.unsafe`SELECT status FROM bots WHERE tenant_id = ${tenantB.tenantId} AND id = ${tenantB.botId}`));
    expect(statusB).toBe('active');
  });
});
