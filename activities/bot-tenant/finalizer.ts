// Our finalizer on the BotTenant: added before anything is created for it, removed once the
// sessions are snapshotted and the pod is gone. Merge patches carry the resourceVersion read, so a
// concurrent edit answers 409 and the activity retries from a fresh read (no finalizer of another
// controller is ever dropped).
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { BOT_TENANT_FINALIZER } from '../../core/bot-tenant/resource.ts';
import type { KubeClients } from '../../core/kubernetes/clients.ts';
import type { BotTenantRef } from '../../core/temporal/bot-tenant.ts';
import { kubeCall } from './kube-call.ts';
import { botTenantObject, getBotTenant } from './read-bot-tenant.ts';

const setFinalizers = async (kube: KubeClients, ref: BotTenantRef, resourceVersion: string, finalizers: readonly string[]) => {
  await kubeCall(`update finalizers of BotTenant ${ref.name}`, () => kube.customObjects.patchNamespacedCustomObject(
    { ...botTenantObject(ref), body: { metadata: { resourceVersion, finalizers } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  ), { ifNotFound: () => undefined });
};

export const ensureBotTenantFinalizer = (kube: KubeClients) => async (ref: BotTenantRef): Promise<void> => {
  const tenant = await getBotTenant(kube, ref);
  const finalizers = tenant?.metadata.finalizers ?? [];
  // A BotTenant being deleted takes no new finalizer (the API server refuses it).
  if (tenant === null || finalizers.includes(BOT_TENANT_FINALIZER) || tenant.metadata.deletionTimestamp !== undefined) return;
  await setFinalizers(kube, ref, tenant.metadata.resourceVersion, [...finalizers, BOT_TENANT_FINALIZER]);
};

/** The last step of a deletion: the API server then removes the BotTenant (once no other finalizer holds it). */
export const removeBotTenantFinalizer = (kube: KubeClients) => async (ref: BotTenantRef): Promise<void> => {
  const tenant = await getBotTenant(kube, ref);
  const finalizers = tenant?.metadata.finalizers ?? [];
  if (tenant === null || !finalizers.includes(BOT_TENANT_FINALIZER)) return;
  await setFinalizers(kube, ref, tenant.metadata.resourceVersion, finalizers.filter((name) => name !== BOT_TENANT_FINALIZER));
};
