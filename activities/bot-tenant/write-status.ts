// The BotTenant's status: conditions computed from the StatefulSet as it is now and from what failed
// in this pass. Written only when something changed (one API call saved per settled pass); a write
// that changes anything is a watch event and one more pass, so nothing in it may change by itself:
// lastTransitionTime moves only with the condition's status.
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { computeConditions, statusChanged, type ObservedStatefulSet } from '../../core/bot-tenant/conditions.ts';
import { botPodObjectName } from '../../core/bot-tenant/labels.ts';
import { botTenantSpec, type BotTenantStatus } from '../../core/bot-tenant/resource.ts';
import type { KubeClients } from '../../core/kubernetes/clients.ts';
import type { BotTenantStatusUpdate } from '../../core/temporal/bot-tenant.ts';
import { kubeCall } from './kube-call.ts';
import { botTenantObject, getBotTenant } from './read-bot-tenant.ts';

/** RFC 3339 to the second, as Kubernetes writes its own timestamps. */
const nowSeconds = (now: Date) => now.toISOString().replace(/\.\d{3}Z$/, 'Z');

export const writeBotTenantStatus = (kube: KubeClients, now: () => Date = () => new Date()) => async (update: BotTenantStatusUpdate): Promise<void> => {
  const { ref } = update;
  const tenant = await getBotTenant(kube, ref);
  if (tenant === null) return;
  const found = await kubeCall(`read StatefulSet ${botPodObjectName(ref.tenantId)}`,
    () => kube.apps.readNamespacedStatefulSet({ name: botPodObjectName(ref.tenantId), namespace: ref.namespace }), { ifNotFound: () => null });
  const statefulSet: ObservedStatefulSet = found === null ? null : {
    generation: found.metadata?.generation ?? 0,
    observedGeneration: found.status?.observedGeneration ?? 0,
    replicas: found.status?.replicas ?? 0,
    readyReplicas: found.status?.readyReplicas ?? 0,
  };
  const { generation } = tenant.metadata;
  const conditions = computeConditions({
    generation,
    paused: botTenantSpec.shape.paused.parse(tenant.spec.paused),
    deleting: tenant.metadata.deletionTimestamp !== undefined,
    statefulSet,
    applyError: update.applyError,
    tenantLinkError: update.tenantLinkError,
    snapshotError: update.snapshotError,
  }, tenant.status?.conditions, nowSeconds(now()));
  const next: BotTenantStatus = {
    ...tenant.status,
    observedGeneration: generation,
    conditions,
    ...(update.connectedBots === undefined ? {} : { connectedBots: update.connectedBots }),
    ...(update.lastSnapshot === undefined ? {} : { lastSnapshot: update.lastSnapshot }),
  };
  if (!statusChanged(tenant.status, next)) return;
  await kubeCall(`write status of BotTenant ${ref.name}`, () => kube.customObjects.patchNamespacedCustomObjectStatus(
    { ...botTenantObject(ref), body: { status: next } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  ), { ifNotFound: () => undefined });
};
