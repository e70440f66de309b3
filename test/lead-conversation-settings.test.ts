// A bot's conversation settings through the API: read, replace (validated, audited with before and
// after), and another tenant's bot is a 404.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DatabasePool } from 'slonik';
import { sql } from 'slonik';
import { z } from 'zod';
import { loadConfig } from '../core/config.ts';
import { createDatabasePools, createTokenAdminPool, type DatabasePools } from '../core/db/pools.ts';
import { createWithTenant, type WithTenant } from '../core/db/with-tenant.ts';
import { DEFAULT_NON_TEXT_REPLY } from '../core/lead-conversation/message-kinds.ts';
import { startEmailApi } from './support/email-api.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

const config = loadConfig();
let pools: DatabasePools;
let tokenPool: DatabasePool;
let withTenant: WithTenant;
let api: Awaited<ReturnType<typeof startEmailApi>>;
let tenant: TenantGraph;
let other: TenantGraph;
let token: string;

beforeAll(async () => {
  pools = await createDatabasePools(config.database);
  tokenPool = await createTokenAdminPool(config.database);
  withTenant = createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 });
  api = await startEmailApi(config, { pools, tokenPool, withTenant });
  [tenant, other] = [await seedTenant(withTenant), await seedTenant(withTenant)];
  token = await api.tokenFor(tenant.tenantId);
});
afterAll(async () => {
  await api.stop();
  await Promise.all([pools.end(), tokenPool.end()]);
});

describe('conversation settings', () => {
  it('reads the defaults, replaces them, and audits the change with before and after', async () => {
    const path = `/tenants/${tenant.tenantId}/bots/${tenant.botId}/conversation-settings`;
    expect(await api.call('GET', path, token)).toEqual({
      status: 200, json: { qualifyWhenInfoComplete: false, nonTextReply: null, effectiveNonTextReply: DEFAULT_NON_TEXT_REPLY },
    });
    const put = await api.call('PUT', path, token, { qualifyWhenInfoComplete: true, nonTextReply: '  Só leio texto.  ' });
    expect(put).toEqual({ status: 200, json: { qualifyWhenInfoComplete: true, nonTextReply: 'Só leio texto.', effectiveNonTextReply: 'Só leio texto.' } });
    expect((await api.call('GET', path, token)).json).toEqual(put.json);
    const audit = await withTenant(tenant.tenantId, (tx) => tx.any(sql.type(z.object({ actor: z.string(), details: z.record(z.string(), z.unknown()) }))`
      SELECT actor, details FROM audit_logs WHERE tenant_id = ${tenant.tenantId} AND action = 'bot.conversation-settings.updated'`));
    expect(audit).toEqual([{
      actor: expect.stringMatching(/^api:/),
      details: {
        botId: tenant.botId,
        before: { qualifyWhenInfoComplete: false, nonTextReply: null, effectiveNonTextReply: DEFAULT_NON_TEXT_REPLY },
        after: put.json,
      },
    }]);
  });

  it('refuses what it cannot store with a problem naming the field, and changes nothing', async () => {
    const path = `/tenants/${tenant.tenantId}/bots/${tenant.botId}/conversation-settings`;
    const before = (await api.call('GET', path, token)).json;
    for (const body of [{ nonTextReply: '   ' }, { nonTextReply: 'x'.repeat(1_001) }, { qualifyWhenInfoComplete: 'yes' }, { extra: 1 }, { nonTextReply: 'a\u0000b' }]) {
      const refused = await api.call('PUT', path, token, body);
      expect(refused).toMatchObject({ status: 400, json: { status: 400, detail: expect.stringMatching(/^body: /) } });
    }
    expect((await api.call('GET', path, token)).json).toEqual(before);
  });

  it('answers 404 for another tenant\'s bot, through either tenant\'s path', async () => {
    expect((await api.call('GET', `/tenants/${tenant.tenantId}/bots/${other.botId}/conversation-settings`, token)).status).toBe(404);
    expect((await api.call('PUT', `/tenants/${tenant.tenantId}/bots/${other.botId}/conversation-settings`, token, {})).status).toBe(404);
    expect((await api.call('GET', `/tenants/${other.tenantId}/bots/${other.botId}/conversation-settings`, token)).status).toBe(404);
  });
});
