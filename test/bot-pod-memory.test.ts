// What a bot pod holds in memory for its whole life: the modules it loads. An idle simulator pod that
// answers a message loads neither Baileys nor the AWS SDK (docs/bot-pods.md#memory): they load only on
// the Baileys transport, and at a snapshot, restore or media send. And it starts the way it was measured:
// its Node flags, one malloc arena per two threads, and a compile cache warmed with those same flags.
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { warmBotPodCompileCache } from '../bot-pods/warm-compile-cache.ts';
import { BOT_POD_NODE_FLAGS, BOT_POD_SCRIPT, botPodProcessEnvironment } from '../core/bot-pod-process.ts';
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

/** The modules a child wrote to `file` when it exited (test/support/loaded-modules.ts). */
const loadedModulesOf = (file: string): string[] => {
  if (!existsSync(file)) throw new Error('the pod wrote no list of loaded modules');
  return JSON.parse(readFileSync(file, 'utf8')) as string[];
};

describe('bot pod memory', () => {
  it('answers a message on the simulator without loading Baileys or the AWS SDK', async () => {
    const modulesFile = join(mkdtempSync(join(tmpdir(), 'loaded-modules-')), 'modules.json');
    const pod = await startBotPod(processes, tenant.tenantId, {
      nodeFlags: ['--import', `./test/support/loaded-modules.ts?out=${encodeURIComponent(modulesFile)}`],
    });
    const response = await fetch(`${pod.url}/simulator/bots/${tenant.botId}/inbound`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ key: { remoteJid: '5511977776666@s.whatsapp.net', fromMe: false, id: 'MEM-1' }, message: { conversation: 'price?' }, messageTimestamp: 1_790_000_000 }),
    });
    expect(response.status).toBe(202);
    for (const deadline = Date.now() + 30_000; pod.sends(tenant.botId).length === 0 && Date.now() < deadline; ) await sleep(200);
    expect(pod.sends(tenant.botId)).toHaveLength(1);

    pod.child.kill('SIGTERM');
    await once(pod.child, 'exit');
    const modules = loadedModulesOf(modulesFile);
    expect(modules.some((url) => url.includes('/@temporalio/worker/'))).toBe(true);
    expect(modules.filter((url) => /\/node_modules\/(@whiskeysockets\/baileys|@aws-sdk|tar-stream|qrcode)\//.test(url))).toEqual([]);
  });

  it('runs with its memory settings wherever it starts: flags and environment of core/bot-pod-process.ts', async () => {
    const pod = await startBotPod(processes, tenant.tenantId);
    const commandLine = readFileSync(`/proc/${pod.child.pid}/cmdline`, 'utf8').split('\0');
    expect(commandLine.slice(1, -1)).toEqual([...BOT_POD_NODE_FLAGS, BOT_POD_SCRIPT]);
    const environment = readFileSync(`/proc/${pod.child.pid}/environ`, 'utf8').split('\0');
    expect(environment).toEqual(expect.arrayContaining(['MALLOC_ARENA_MAX=2', 'NODE_COMPILE_CACHE=node_modules/.cache/bot-pod-compile-cache']));
    pod.child.kill('SIGTERM');
    await once(pod.child, 'exit');
  });

  it('starts from a compile cache warmed with its own flags: no module of the pod is type-stripped again', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'bot-pod-compile-cache-'));
    await warmBotPodCompileCache(cacheDir);
    // The entry stops at its missing tenant (exit 78) once every static import has loaded.
    const start = spawnSync(process.execPath, [...BOT_POD_NODE_FLAGS, BOT_POD_SCRIPT], {
      env: { ...botPodProcessEnvironment(cacheDir), NODE_DEBUG_NATIVE: 'COMPILE_CACHE' }, encoding: 'utf8',
    });
    expect(start.status).toBe(78);
    const lines = start.stderr.split('\n');
    expect(lines.filter((line) => /^\[compile cache\] retrieving transpile cache for StrippedTypeScript .*success$/.test(line)).length).toBeGreaterThan(20);
    expect(lines.filter((line) => line.startsWith('[compile cache] no transpile cache'))).toEqual([]);
  });
});
