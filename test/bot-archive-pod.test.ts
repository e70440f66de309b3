// An archived bot stops answering, end to end: a real bot pod (simulator transport) with the
// platform worker answers a WhatsApp user; once the bot is archived through the API the pod drops
// it (its simulator knows the bot no more) and nothing more is sent, while its lead stays; once
// unarchived, the same user is answered again.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { loadConfig } from '../core/config.ts';
import { createDatabasePools, createTokenAdminPool, type DatabasePools } from '../core/db/pools.ts';
import { createWithTenant, type WithTenant } from '../core/db/with-tenant.ts';
import { startBotPod, type BotPodHandle } from './support/bot-pod.ts';
import { startEmailApi } from './support/email-api.ts';
import { processGroup } from './support/processes.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

const config = loadConfig();
const processes = processGroup();
let pools: DatabasePools;
let tokenPool: DatabasePool;
let withTenant: WithTenant;
let tenant: TenantGraph;
let pod: BotPodHandle;
let api: Awaited<ReturnType<typeof startEmailApi>>;
let token: string;

const WA_ID = '5511977776666';
const inject = (id: string) => fetch(`${pod.url}/simulator/bots/${tenant.botId}/inbound`, {
  method: 'POST', headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ key: { remoteJid: `${WA_ID}@s.whatsapp.net`, fromMe: false, id }, message: { conversation: `${id}: qual o price?` }, messageTimestamp: 1_790_000_000 }),
});
const outbound = () => withTenant(tenant.tenantId, (tx) => tx.oneFirst(sql.type(z.object({ count: z.number() }))`
  SELECT count(*)::int AS count FROM lead_messages m JOIN leads l ON l.tenant_id = m.tenant_id AND l.id = m.lead_id
   WHERE l.bot_id = ${tenant.botId} AND l.wa_id = ${WA_ID} AND m.direction = 'outbound'`));
/** The bots the pod runs, as its readiness probe lists them. */
const podBots = async () => ((await (await fetch(`${pod.url}/health/ready`)).json()) as { bots: { botId: string }[] }).bots.map((bot) => bot.botId);
const until = async (what: string, check: () => Promise<boolean>, timeoutMs = 30_000) => {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(200)) if (await check()) return;
  throw new Error(`not within ${timeoutMs} ms: ${what}`);
};

beforeAll(async () => {
  pools = await createDatabasePools(config.database);
  tokenPool = await createTokenAdminPool(config.database);
  withTenant = createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 });
  tenant = await seedTenant(withTenant);
  await processes.start(['worker/main.ts']);
  pod = await startBotPod(processes, tenant.tenantId);
  api = await startEmailApi(config, { pools, tokenPool, withTenant });
  token = await api.tokenFor(tenant.tenantId);
}, 90_000);
afterAll(async () => {
  await api.stop();
  await processes.stopAll();
  await Promise.all([pools.end(), tokenPool.end()]);
});

describe('bot archive, through the bot pod', () => {
  it('stops answering once archived, keeps the lead, and answers again once unarchived', async () => {
    expect((await inject('ARCH-1')).status).toBe(202);
    await until('the first reply', async () => await outbound() === 1);

    expect((await api.call('POST', `/tenants/${tenant.tenantId}/bots/${tenant.botId}/archive`, token)).status).toBe(200);
    const archivedAt = Date.now();
    // The pod asks which bots to run every 3 s and stops the archived one's transport.
    await until('the pod dropping the archived bot', async () => !(await podBots()).includes(tenant.botId));
    const droppedAfterMs = Date.now() - archivedAt;
    expect(droppedAfterMs).toBeLessThan(10_000);
    const refused = await inject('ARCH-2');
    expect([refused.status, await refused.json()]).toEqual([404, expect.objectContaining({ title: 'Unknown bot' })]);
    // Its status says why it is not connected, not that the pod (which runs) did not answer.
    const status = await api.call('GET', `/tenants/${tenant.tenantId}/bots/${tenant.botId}/status`, token);
    expect([status.status, status.json]).toEqual([200, expect.objectContaining({ state: 'closed', lastError: expect.stringContaining('archived') })]);
    await sleep(2_000); // a reply to anything would land now
    expect(pod.sends(tenant.botId)).toHaveLength(1);
    expect(await outbound()).toBe(1);
    const leads = await api.call('GET', `/tenants/${tenant.tenantId}/leads?botId=${tenant.botId}`, token);
    expect(leads.json.items!.map((lead) => lead.waId)).toContain(WA_ID);

    expect((await api.call('POST', `/tenants/${tenant.tenantId}/bots/${tenant.botId}/unarchive`, token)).status).toBe(200);
    await until('the pod running the bot again', async () => (await inject('ARCH-3')).status === 202);
    await until('the reply after unarchiving', async () => await outbound() === 2);
    console.info(`archived bot dropped by its pod after ${droppedAfterMs} ms`);
  }, 120_000);
});
