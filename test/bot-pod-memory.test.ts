// What a bot pod holds in memory for its whole life: the modules it loads. An idle simulator pod that
// answers a message loads neither Baileys nor the AWS SDK (docs/bot-pods.md#memory): they load only on
// the Baileys transport, and at a snapshot, restore or media send.
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadConfig } from '../core/config.ts';
import { createDatabasePools, type DatabasePools } from '../core/db/pools.ts';
import { createWithTenant } from '../core/db/with-tenant.ts';
import { startBotPod } from './support/bot-pod.ts';
import { processGroup } from './support/processes.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

const config = loadConfig();
const processes = processGroup();
let pools: DatabasePools;
let tenant: TenantGraph;

beforeAll(async () => {
  pools = await createDatabasePools(config.database);
  tenant = await seedTenant(createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 }));
  await processes.start(['worker/main.ts']);
}, 60_000);
afterAll(async () => {
  await processes.stopAll();
  await pools.end();
});

/** The modules a child printed when it exited (test/support/loaded-modules.ts). */
const loadedModulesOf = (output: string): string[] => {
  const line = output.split('\n').find((entry) => entry.startsWith('loaded-modules '));
  if (!line) throw new Error('the pod printed no loaded-modules line');
  return JSON.parse(line.slice('loaded-modules '.length)) as string[];
};

describe('bot pod memory', () => {
  it('answers a message on the simulator without loading Baileys or the AWS SDK', async () => {
    const pod = await startBotPod(processes, tenant.tenantId, { nodeFlags: ['--import', './test/support/loaded-modules.ts'] });
    let output = '';
    pod.child.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    const response = await fetch(`${pod.url}/simulator/bots/${tenant.botId}/inbound`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ key: { remoteJid: '5511977776666@s.whatsapp.net', fromMe: false, id: 'MEM-1' }, message: { conversation: 'price?' }, messageTimestamp: 1_790_000_000 }),
    });
    expect(response.status).toBe(202);
    for (const deadline = Date.now() + 30_000; pod.sends(tenant.botId).length === 0 && Date.now() < deadline; ) await sleep(200);
    expect(pod.sends(tenant.botId)).toHaveLength(1);

    pod.child.kill('SIGTERM');
    await once(pod.child, 'exit');
    const modules = loadedModulesOf(output);
    expect(modules.some((url) => url.includes('/@temporalio/worker/'))).toBe(true);
    expect(modules.filter((url) => /\/node_modules\/(@whiskeysockets\/baileys|@aws-sdk|tar-stream|qrcode)\//.test(url))).toEqual([]);
  });
});
