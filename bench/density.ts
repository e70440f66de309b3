// Density: 20 tenant pods on one machine (simulator transport, one bot each), their memory idle and
// under traffic, and the inbound-to-reply latency with every pod receiving messages at once: from the
// POST of a WhatsApp message to the pod to the reply the pod sent (its simulator's record), through
// the outbox, Temporal, the platform worker and the pod's send activity, at half the rate the 20 pods
// sustain together (measured first, as the pipeline section does). The figure to size a node with.
import { setTimeout as sleep } from 'node:timers/promises';
import { messageIdFor } from '../bot-pods/sent-log.ts';
import { warmBotPodCompileCache } from '../bot-pods/warm-compile-cache.ts';
import type { WithTenant } from '../core/db/with-tenant.ts';
import { leadWorkflowId } from '../core/temporal/lead-conversation.ts';
import { startBotPod, type BotPodHandle } from '../test/support/bot-pod.ts';
import type { ProcessGroup } from '../test/support/processes.ts';
import { seedTenant } from '../test/support/tenant-fixture.ts';
import { burst, messagesFor, paced, type BenchMessage, type Target } from './load.ts';
import { processMemory, type ProcessMemory } from './process-memory.ts';
import { SAMPLE_TEXTS } from './scoring.ts';

const IDLE_SECONDS = 20;
const LEADS_PER_POD = 5;

type DensityPod = { readonly pod: BotPodHandle; readonly tenantId: string; readonly botId: string };

/** Messages go round-robin over the pods: lead i of a run talks to pod i mod pods, from its own phone. */
const densityTarget = (pods: readonly DensityPod[]): Target => {
  const podOf = (message: BenchMessage) => pods[message.leadIndex % pods.length]!;
  const runDigit = (key: string) => String(key.charCodeAt(1) % 10);
  const phoneOf = (message: BenchMessage) => `55${runDigit(message.key)}${String(message.leadIndex).padStart(10, '0')}`;
  // The reply's WhatsApp id derives from `reply:<inbound id>` (bot-pods/sent-log.ts).
  const replyAt = () => {
    const at = new Map<string, number>();
    for (const { pod, botId } of pods) {
      for (const send of pod.sends(botId) as { waMessageId: string; at?: string }[]) at.set(send.waMessageId, Date.parse(send.at!));
    }
    return at;
  };
  return {
    workflowIdOf(message) {
      const { tenantId, botId } = podOf(message);
      return leadWorkflowId(tenantId, botId, phoneOf(message));
    },
    async send(message) {
      const { pod, botId } = podOf(message);
      const response = await fetch(`${pod.url}/simulator/bots/${botId}/inbound`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          key: { remoteJid: `${phoneOf(message)}@s.whatsapp.net`, fromMe: false, id: message.key },
          message: { conversation: message.text }, messageTimestamp: Math.floor(Date.now() / 1000), pushName: 'Bench',
        }),
      });
      if (response.status !== 202) throw new Error(`pod refused an inbound message: ${response.status} ${await response.text()}`);
    },
    async doneCount(keys) {
      const at = replyAt();
      return keys.filter((key) => at.has(messageIdFor(`reply:${key}`))).length;
    },
    async completions(keys) {
      const at = replyAt();
      return new Map(keys.map((key) => [key, at.get(messageIdFor(`reply:${key}`))!]));
    },
  };
};

const summary = (samples: readonly ProcessMemory[]) => {
  const sorted = (values: number[]) => values.sort((a, b) => a - b);
  const rss = sorted(samples.map((sample) => sample.rssMb));
  const pss = sorted(samples.map((sample) => sample.pssMb));
  return {
    perPodRssMb: { median: rss[Math.floor(rss.length / 2)]!, max: rss.at(-1)! },
    perPodPssMb: { median: pss[Math.floor(pss.length / 2)]!, max: pss.at(-1)! },
    totalRssMb: rss.reduce((sum, value) => sum + value, 0),
    totalPssMb: pss.reduce((sum, value) => sum + value, 0),
  };
};

export const runDensityBench = async (
  processes: ProcessGroup, withTenant: WithTenant, options: { pods?: number; seconds?: number } = {},
) => {
  const { pods: podCount = 20, seconds = 15 } = options;
  // As in the image: every pod starts from the compile cache.
  await warmBotPodCompileCache();
  const worker = await processes.start(['worker/main.ts'], { readyText: 'worker started', env: { LOG_LEVEL: 'info' } });
  const pods: DensityPod[] = [];
  // A few at a time: twenty Node processes starting at once on two cores only slow each other down.
  for (let first = 0; first < podCount; first += 5) {
    pods.push(...await Promise.all(Array.from({ length: Math.min(5, podCount - first) }, async () => {
      const tenant = await seedTenant(withTenant);
      return { pod: await startBotPod(processes, tenant.tenantId), tenantId: tenant.tenantId, botId: tenant.botId };
    })));
  }
  await sleep(IDLE_SECONDS * 1000);
  const idle = summary(pods.map(({ pod }) => processMemory(pod.child.pid!)));

  const target = densityTarget(pods);
  await burst(target, messagesFor('dw', podCount, podCount * 2, SAMPLE_TEXTS), podCount);
  const maximum = await burst(target, messagesFor('dm', podCount * LEADS_PER_POD, podCount * LEADS_PER_POD * 2, SAMPLE_TEXTS), podCount * 2);
  // The highest each pod reached while the traffic ran, sampled every second.
  const peaks = new Map<number, ProcessMemory>();
  const sampler = setInterval(() => {
    for (const { pod } of pods) {
      const now = processMemory(pod.child.pid!);
      const peak = peaks.get(pod.child.pid!);
      if (!peak || now.rssMb > peak.rssMb) peaks.set(pod.child.pid!, now);
    }
  }, 1000);
  const rate = Math.max(1, Math.round(maximum.messagesPerSecond / 2));
  const latency = await paced(target, messagesFor('dp', podCount * LEADS_PER_POD, rate * seconds, SAMPLE_TEXTS), rate).finally(() => clearInterval(sampler));
  const underTraffic = summary([...peaks.values()]);
  for (const { pod } of pods) pod.child.kill('SIGTERM');
  worker.kill('SIGTERM');
  return { pods: podCount, botsPerPod: 1, transport: 'simulator', idleSeconds: IDLE_SECONDS, idle, underTraffic, maximum, inboundToReply: latency };
};
