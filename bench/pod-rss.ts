// Resident memory of a bot pod with one idle bot and with ten, on Baileys (sockets that keep
// trying to reach WhatsApp where it is unreachable, as in this sandbox) and on the simulator,
// beside a bare Node process started the same way in the same run. Pods start as in the image: with the
// memory settings of core/bot-pod-process.ts and a warm compile cache.
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'slonik';
import { warmBotPodCompileCache } from '../bot-pods/warm-compile-cache.ts';
import type { WithTenant } from '../core/db/with-tenant.ts';
import { startBotPod } from '../test/support/bot-pod.ts';
import type { ProcessGroup } from '../test/support/processes.ts';
import { seedTenant } from '../test/support/tenant-fixture.ts';
import { processMemory } from './process-memory.ts';

const IDLE_SECONDS = 20;

const tenantWithBots = async (withTenant: WithTenant, bots: number) => {
  const tenant = await seedTenant(withTenant);
  await withTenant(tenant.tenantId, async (tx) => {
    for (let i = 1; i < bots; i += 1) {
      await tx.query(sql.unsafe`INSERT INTO bots (tenant_id, name) VALUES (${tenant.tenantId}, ${`Bot ${i + 1}`})`);
    }
  });
  return tenant.tenantId;
};

export const runPodRssBench = async (processes: ProcessGroup, withTenant: WithTenant) => {
  const bare = await processes.start(['-e', 'process.stdout.write("idle\\n"); setInterval(() => {}, 1000)'], { readyText: 'idle' });
  // A pod asks the platform worker which bots to run.
  // The bench runs its processes at LOG_LEVEL=warn; this one's readiness is an info line.
  const worker = await processes.start(['worker/main.ts'], { readyText: 'worker started', env: { LOG_LEVEL: 'info' } });
  await warmBotPodCompileCache();
  const results: { transport: string; bots: number; rssMb: number; pssMb: number }[] = [];
  for (const transport of ['baileys', 'simulator'] as const) {
    for (const bots of [1, 10]) {
      const pod = await startBotPod(processes, await tenantWithBots(withTenant, bots), { transport });
      await sleep(IDLE_SECONDS * 1000);
      results.push({ transport, bots, ...processMemory(pod.child.pid!) });
      pod.child.kill('SIGTERM');
    }
  }
  worker.kill('SIGTERM');
  return { idleSeconds: IDLE_SECONDS, bareNodeRssMb: processMemory(bare.pid!).rssMb, pods: results };
};
