// End to end on a real platform worker: tenant B's ingest latency (p50/p99) alone, beside a tenant
// sending long messages to cheap rules (the load alone), and beside tenant A sending the same
// messages to accepted but costly rules (see test/scoring-isolation.test.ts). Hostility costs B
// nothing when the last two match.
import type { Client } from '@temporalio/client';
import type { WithTenant } from '../core/db/with-tenant.ts';
import type { ProcessGroup } from '../test/support/processes.ts';
import { createIsolationRun, percentile } from '../test/support/tenant-isolation.ts';

const MESSAGES = 60;
const HOSTILE_LEADS = 20;

export const runTenantIsolationBench = async (deps: { client: Client; taskQueue: string; withTenant: WithTenant; processes: ProcessGroup; nodeFlags: string[] }) => {
  const isolation = await createIsolationRun(deps);
  // No ready text: the bench logs at warn. The warm-up messages wait for the worker to start.
  const worker = await deps.processes.start([...deps.nodeFlags, 'worker/main.ts']);
  try {
    await isolation.calmLatencies(10);
    const alone = await isolation.calmLatencies(MESSAGES);
    const benignFlood = await isolation.flood(HOSTILE_LEADS, 30_000, 'benign');
    const besideBenign = await isolation.calmLatencies(MESSAGES);
    await benignFlood.stored();
    const flood = await isolation.flood(HOSTILE_LEADS);
    const beside = await isolation.calmLatencies(MESSAGES);
    const summary = (latencies: number[]) => ({ ingested: latencies.length, p50Ms: Math.round(percentile(latencies, 0.5)), p99Ms: Math.round(percentile(latencies, 0.99)) });
    return { messages: MESSAGES, hostileLeads: HOSTILE_LEADS, hostileMessageChars: 30_000, calmAlone: summary(alone), calmBesideBenign: summary(besideBenign), calmBesideHostile: summary(beside), hostileStored: await flood.stored() };
  } finally {
    worker.kill('SIGTERM');
  }
};
