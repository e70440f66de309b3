// The BotTenant's conditions from what the reconcile observed. A condition keeps its
// lastTransitionTime while its status stays the same (the Kubernetes convention): a reason or
// message that changes is news, a transition only when True/False flips.
import type { BotTenantCondition, BotTenantStatus } from './resource.ts';

/** The bot pod's StatefulSet as the API server reports it (null: it does not exist). */
export type ObservedStatefulSet = {
  readonly generation: number;
  readonly observedGeneration: number;
  readonly replicas: number;
  readonly readyReplicas: number;
} | null;

export type ReconcileObservation = {
  readonly generation: number;
  readonly paused: boolean;
  readonly deleting: boolean;
  readonly statefulSet: ObservedStatefulSet;
  /** What failed in this pass, readable (null: nothing). */
  readonly applyError: string | null;
  readonly tenantLinkError: string | null;
  readonly snapshotError: string | null;
};

type Draft = Pick<BotTenantCondition, 'type' | 'status' | 'reason' | 'message'>;

const readiness = (observed: ReconcileObservation): Draft => {
  if (observed.deleting) return { type: 'Ready', status: 'False', reason: 'Deleting', message: 'The BotTenant is being deleted.' };
  if (observed.paused) return { type: 'Ready', status: 'False', reason: 'Paused', message: 'spec.paused: the bot pod is scaled to 0; its volume is kept.' };
  const ready = observed.statefulSet?.readyReplicas ?? 0;
  return ready >= 1
    ? { type: 'Ready', status: 'True', reason: 'PodReady', message: 'The bot pod answers /health/ready.' }
    : { type: 'Ready', status: 'False', reason: 'PodNotReady', message: 'The bot pod is not ready yet.' };
};

const progress = (observed: ReconcileObservation): Draft => {
  const { statefulSet } = observed;
  if (observed.applyError !== null) return { type: 'Progressing', status: 'True', reason: 'Applying', message: 'Retrying the apply of the bot pod\'s objects.' };
  if (observed.deleting) return { type: 'Progressing', status: 'True', reason: 'Applying', message: 'Tearing the bot pod down.' };
  if (statefulSet === null || statefulSet.observedGeneration < statefulSet.generation) {
    return { type: 'Progressing', status: 'True', reason: 'Applying', message: 'The StatefulSet is being rolled out.' };
  }
  if (!observed.paused && statefulSet.readyReplicas < 1) {
    return { type: 'Progressing', status: 'True', reason: 'WaitingForPod', message: 'Waiting for the bot pod to become ready.' };
  }
  return { type: 'Progressing', status: 'False', reason: 'Converged', message: 'The cluster matches the spec.' };
};

const degradation = (observed: ReconcileObservation): Draft => {
  if (observed.snapshotError !== null) return { type: 'Degraded', status: 'True', reason: 'SnapshotFailed', message: `Deletion is blocked: the sessions snapshot failed: ${observed.snapshotError}` };
  if (observed.applyError !== null) return { type: 'Degraded', status: 'True', reason: 'ApplyFailed', message: observed.applyError };
  if (observed.tenantLinkError !== null) return { type: 'Degraded', status: 'True', reason: 'TenantLinkFailed', message: observed.tenantLinkError };
  return { type: 'Degraded', status: 'False', reason: 'AsExpected', message: 'Nothing failed in the last reconcile.' };
};

/** The conditions to write: Ready, Progressing, Degraded, in that order. `now`: an ISO timestamp. */
export const computeConditions = (
  observed: ReconcileObservation, previous: readonly BotTenantCondition[] | undefined, now: string,
): BotTenantCondition[] => [readiness(observed), progress(observed), degradation(observed)].map((draft) => {
  const before = previous?.find((condition) => condition.type === draft.type);
  const lastTransitionTime = before !== undefined && before.status === draft.status ? before.lastTransitionTime : now;
  return { ...draft, lastTransitionTime, observedGeneration: observed.generation };
});

/** Whether writing `next` would change anything (a write is a watch event: writing the same status again would loop). */
export const statusChanged = (current: BotTenantStatus | undefined, next: BotTenantStatus): boolean =>
  JSON.stringify(normalise(current ?? {})) !== JSON.stringify(normalise(next));

const normalise = (status: BotTenantStatus) => ({
  observedGeneration: status.observedGeneration ?? null,
  connectedBots: status.connectedBots ?? null,
  lastSnapshot: status.lastSnapshot ?? null,
  conditions: [...(status.conditions ?? [])].sort((a, b) => a.type.localeCompare(b.type))
    .map(({ type, status: value, reason, message, lastTransitionTime, observedGeneration }) => ({ type, value, reason, message, lastTransitionTime, observedGeneration })),
});
