// Teardown after the snapshot: the StatefulSet (its pod goes with it), the Service and the Secret
// (their owner reference would let the garbage collector do it, but the Secret holds credentials:
// not left to chance), and the sessions volumes only when spec.onDelete.volume is Delete.
import { botPodObjectName, TENANT_ID_LABEL } from '../../core/bot-tenant/labels.ts';
import type { KubeClients } from '../../core/kubernetes/clients.ts';
import type { BotTenantRef } from '../../core/temporal/bot-tenant.ts';
import { kubeCall } from './kube-call.ts';

const gone = () => undefined;

export const deleteBotPodObjects = (kube: KubeClients) => async (input: { ref: BotTenantRef; deleteVolumes: boolean }): Promise<void> => {
  const { namespace, tenantId } = input.ref;
  const name = botPodObjectName(tenantId);
  // Background propagation: the pod goes after its StatefulSet; a claim in use is held by its
  // kubernetes.io/pvc-protection finalizer until then, so deleting it now is safe.
  await kubeCall(`delete StatefulSet ${name}`, () => kube.apps.deleteNamespacedStatefulSet({ name, namespace }), { ifNotFound: gone });
  await kubeCall(`delete Service ${name}`, () => kube.core.deleteNamespacedService({ name, namespace }), { ifNotFound: gone });
  await kubeCall(`delete Secret ${name}`, () => kube.core.deleteNamespacedSecret({ name, namespace }), { ifNotFound: gone });
  if (!input.deleteVolumes) return;
  const claims = await kubeCall('list sessions volumes', () => kube.core.listNamespacedPersistentVolumeClaim({ namespace, labelSelector: `${TENANT_ID_LABEL}=${tenantId}` }));
  for (const claim of claims.items) {
    await kubeCall(`delete PersistentVolumeClaim ${claim.metadata!.name}`,
      () => kube.core.deleteNamespacedPersistentVolumeClaim({ name: claim.metadata!.name!, namespace }), { ifNotFound: gone });
  }
};
