// The local stack's tenants watcher: a tenant created appears as a pod, a tenant deleted (it left
// the tenants list: docs/tenant-delete.md) has its pod stopped. The runtime here records calls: the
// local runtime's own processes are covered by test/pod-runtime.test.ts.
import { describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PodRuntime, PodTenant } from '../core/pod-runtime.ts';
import { watchTenants } from '../stack/tenant-pods.ts';

const tenant = (tenantId: string): PodTenant => ({ tenantId, slug: tenantId, displayName: tenantId });

const recordingRuntime = () => {
  const running = new Set<string>();
  const runtime: PodRuntime = {
    ensurePod: async ({ tenantId }) => { running.add(tenantId); return { tenantId, phase: 'running', url: null, restarts: 0 }; },
    removePod: async (tenantId) => { running.delete(tenantId); },
    podStatus: async (tenantId) => ({ tenantId, phase: running.has(tenantId) ? 'running' : 'absent', url: null, restarts: 0 }),
  };
  return { runtime, running };
};

describe('tenants watcher', () => {
  it('starts the pod of a new tenant and stops the pod of a deleted one, including one running since start', async () => {
    const { runtime, running } = recordingRuntime();
    await runtime.ensurePod(tenant('since-start'));
    let listed = [tenant('since-start'), tenant('kept')];
    const stopping = new AbortController();
    const logged: string[] = [];
    const watching = watchTenants(async () => listed, runtime, {
      signal: stopping.signal, log: (message) => logged.push(message), intervalMs: 20, running: ['since-start'],
    });
    await sleep(100);
    expect([...running].sort()).toEqual(['kept', 'since-start']);
    listed = [tenant('kept')];
    await sleep(100);
    stopping.abort();
    await watching;
    expect([...running]).toEqual(['kept']);
    expect(logged).toEqual(['tenant since-start is gone: its bot pod is stopped']);
  });
});
