// Leader election over a real Lease on the real API server, with two candidates: never two leaders
// at once; a leader that stops renewing (cut off from the API server) is replaced once its Lease
// expires, and a leader that stops cleanly hands over at once.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { createLeaderElection, type LeaderElection } from '../operator/leader-election.ts';
import { createTestNamespace, testKubeConfig } from './support/kube.ts';
import { waitUntil } from './support/operator.ts';

const LEASE_SECONDS = 2;
let namespace: string;
let coordination: CoordinationV1Api;
const candidates: LeaderElection[] = [];

beforeAll(async () => {
  const kubeconfig = testKubeConfig();
  namespace = await createTestNamespace(kubeconfig, 'lease');
  coordination = kubeconfig.makeApiClient(CoordinationV1Api);
});
afterAll(async () => {
  await Promise.all(candidates.map((candidate) => candidate.stop()));
});

/** A candidate whose API server calls fail while `cut.off` is set (a network partition). */
const candidate = (identity: string, cut = { off: false }) => {
  const client = new Proxy(coordination, {
    get: (target, property, receiver) => {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => cut.off ? Promise.reject(new Error('partitioned')) : (value as (...a: unknown[]) => unknown).apply(target, args);
    },
  });
  const election = createLeaderElection({
    coordination: client, namespace, identity, leaseDurationSeconds: LEASE_SECONDS, retryPeriodMs: 100,
    onStartedLeading: () => undefined, onStoppedLeading: () => undefined, log: () => undefined,
  });
  candidates.push(election);
  return election;
};

/** Watches both candidates every 20 ms; fails on any moment with two leaders. */
const watchForTwoLeaders = (a: LeaderElection, b: LeaderElection) => {
  let both = 0;
  const timer = setInterval(() => { if (a.isLeader() && b.isLeader()) both += 1; }, 20);
  return () => { clearInterval(timer); return both; };
};

it('one leader at a time; a partitioned leader is replaced after expiry, a stopped one at once', async () => {
  const cutA = { off: false };
  const a = candidate('candidate-a', cutA);
  const b = candidate('candidate-b');
  a.start();
  await waitUntil('a leads', async () => a.isLeader(), 10_000);
  b.start();
  const stopWatching = watchForTwoLeaders(a, b);

  await sleep(LEASE_SECONDS * 1000 + 500);
  expect(b.isLeader()).toBe(false); // a keeps renewing: b waits however long it takes

  cutA.off = true;
  const cutAt = Date.now();
  await waitUntil('b takes over the expired Lease', async () => b.isLeader(), 10_000);
  const takeoverMs = Date.now() - cutAt;
  expect(a.isLeader()).toBe(false);
  expect(takeoverMs).toBeGreaterThanOrEqual(LEASE_SECONDS * 1000 - 200);

  cutA.off = false;
  await sleep(500);
  expect(a.isLeader()).toBe(false); // back online, a finds b's live Lease and follows

  const stoppedAt = Date.now();
  await b.stop();
  await waitUntil('a takes over the released Lease', async () => a.isLeader(), 10_000);
  const handoverMs = Date.now() - stoppedAt;
  expect(handoverMs).toBeLessThan(LEASE_SECONDS * 1000);
  expect(stopWatching()).toBe(0);

  const lease = await coordination.readNamespacedLease({ name: 'botinteligente-operator', namespace });
  expect(lease.spec).toMatchObject({ holderIdentity: 'candidate-a', leaseTransitions: 2 });
  process.stderr.write(`[figures] takeover after a partition: ${takeoverMs} ms (lease ${LEASE_SECONDS} s); handover after a clean stop: ${handoverMs} ms\n`);
}, 60_000);
