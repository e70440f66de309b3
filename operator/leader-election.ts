// Leader election over a coordination.k8s.io/v1 Lease (`botinteligente-operator`): one replica
// runs the informers, the others wait and take over once the leader stops renewing. Every write
// carries the resourceVersion read, so two candidates racing for an expired Lease cannot both win.
import { V1MicroTime, type CoordinationV1Api, type V1Lease } from '@kubernetes/client-node';
import { kubeStatusOf } from '../core/kubernetes/clients.ts';
import { decideLease, type LeaseState } from './lease-decision.ts';

export const OPERATOR_LEASE = 'botinteligente-operator';

export type LeaderElectionOptions = {
  readonly coordination: CoordinationV1Api;
  readonly namespace: string;
  readonly leaseName?: string;
  /** Unique per replica: the pod's name in a Deployment. */
  readonly identity: string;
  /** How long a Lease lives without renewal: the longest a dead leader keeps the others waiting. */
  readonly leaseDurationSeconds: number;
  /** How often a candidate tries (and the leader renews). */
  readonly retryPeriodMs: number;
  readonly now?: () => Date;
  readonly onStartedLeading: () => Promise<void> | void;
  readonly onStoppedLeading: () => Promise<void> | void;
  readonly log: (message: string, details?: object) => void;
};

export type LeaderElection = {
  start(): void;
  /** Stops trying; a leader releases the Lease, so a successor need not wait for it to expire. */
  stop(): Promise<void>;
  isLeader(): boolean;
};

const stateOf = (lease: V1Lease): LeaseState => ({
  holder: lease.spec?.holderIdentity ?? null,
  renewTime: lease.spec?.renewTime === undefined ? null : new Date(lease.spec.renewTime),
  durationSeconds: lease.spec?.leaseDurationSeconds ?? 0,
});

export const createLeaderElection = (options: LeaderElectionOptions): LeaderElection => {
  const { coordination, namespace, identity } = options;
  const name = options.leaseName ?? OPERATOR_LEASE;
  const now = options.now ?? (() => new Date());
  let leader = false;
  let lastRenewal = 0;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;

  const read = async (): Promise<V1Lease | null> => {
    try {
      return await coordination.readNamespacedLease({ name, namespace });
    } catch (error) {
      if (kubeStatusOf(error) === 404) return null;
      throw error;
    }
  };

  /** One round: true when we hold the Lease after it. */
  const tryAcquireOrRenew = async (): Promise<boolean> => {
    const lease = await read();
    const at = now();
    const decision = decideLease(lease === null ? null : stateOf(lease), identity, at);
    if (decision === 'follow') return false;
    // MicroTime: the API server wants six fractional digits, which a plain Date does not print.
    const micro = (time: Date | string) => new V1MicroTime(new Date(time).getTime());
    const spec = {
      holderIdentity: identity,
      leaseDurationSeconds: options.leaseDurationSeconds,
      renewTime: micro(at),
      acquireTime: micro(decision === 'renew' ? lease?.spec?.acquireTime ?? at : at),
      leaseTransitions: (lease?.spec?.leaseTransitions ?? 0) + (decision === 'acquire' ? 1 : 0),
    };
    try {
      if (lease === null) await coordination.createNamespacedLease({ namespace, body: { metadata: { name, namespace }, spec } });
      else await coordination.replaceNamespacedLease({ name, namespace, body: { metadata: { ...lease.metadata, name, namespace }, spec } });
      return true;
    } catch (error) {
      // 409: another candidate wrote first (created it, renewed, or took it over).
      if (kubeStatusOf(error) === 409) return false;
      throw error;
    }
  };

  const transition = async (leading: boolean) => {
    if (leading === leader) return;
    leader = leading;
    options.log(leading ? 'became the leader' : 'stopped leading', { identity, lease: name });
    await (leading ? options.onStartedLeading() : options.onStoppedLeading());
  };

  const round = async () => {
    let holds: boolean;
    const attemptedAt = now().getTime();
    try {
      holds = await tryAcquireOrRenew();
      if (holds) lastRenewal = attemptedAt;
    } catch (error) {
      options.log('leader election: API server call failed', { error: String(error) });
      // A leader that cannot renew steps down well before the others may take its Lease over
      // (renewTime + duration): two thirds of the duration after its last renewal, like client-go's renew deadline.
      holds = leader && now().getTime() - lastRenewal < (options.leaseDurationSeconds * 1000 * 2) / 3;
    }
    if (!stopped) await transition(holds);
  };

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = round().finally(schedule);
    }, options.retryPeriodMs);
  };

  const release = async () => {
    const lease = await read();
    if (lease === null || lease.spec?.holderIdentity !== identity) return;
    await coordination.replaceNamespacedLease({
      name, namespace, body: { metadata: lease.metadata, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: new V1MicroTime(now().getTime()) } },
    });
  };

  return {
    start() {
      stopped = false;
      running = round().finally(schedule);
    },
    async stop() {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      await running.catch(() => undefined);
      if (!leader) return;
      leader = false;
      await options.onStoppedLeading();
      await release().catch((error: unknown) => options.log('leader election: release failed', { error: String(error) }));
    },
    isLeader: () => leader,
  };
};
