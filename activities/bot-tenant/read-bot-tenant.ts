import { BOT_TENANT, botTenantSpec, BOT_TENANT_FINALIZER, type BotTenantResource } from '../../core/bot-tenant/resource.ts';
import { botPodObjectName } from '../../core/bot-tenant/labels.ts';
import type { BotTenantRef, ObservedBotTenant } from '../../core/temporal/bot-tenant.ts';
import type { KubeClients } from '../../core/kubernetes/clients.ts';
import { kubeCall } from './kube-call.ts';

const customObject = (ref: BotTenantRef) => ({
  group: BOT_TENANT.group, version: BOT_TENANT.version, plural: BOT_TENANT.plural, namespace: ref.namespace, name: ref.name,
});

/** The BotTenant as stored now, or null when it is gone (or names another tenant: a new resource under an old name). */
export const getBotTenant = async (kube: KubeClients, ref: BotTenantRef): Promise<BotTenantResource | null> => {
  const found = await kubeCall(`read BotTenant ${ref.name}`, () => kube.customObjects.getNamespacedCustomObject(customObject(ref)), { ifNotFound: () => null }) as BotTenantResource | null;
  return found !== null && found.spec?.tenantId === ref.tenantId ? found : null;
};

export const botTenantObject = customObject;

export const readBotTenant = (kube: KubeClients) => async (ref: BotTenantRef): Promise<ObservedBotTenant> => {
  const tenant = await getBotTenant(kube, ref);
  if (tenant === null) return null;
  const parsed = botTenantSpec.safeParse(tenant.spec);
  const spec = parsed.success ? parsed.data : botTenantSpec.parse({ tenantId: ref.tenantId });
  const statefulSet = await kubeCall(`read StatefulSet ${botPodObjectName(ref.tenantId)}`,
    () => kube.apps.readNamespacedStatefulSet({ name: botPodObjectName(ref.tenantId), namespace: ref.namespace }), { ifNotFound: () => null });
  return {
    generation: tenant.metadata.generation,
    deleting: tenant.metadata.deletionTimestamp !== undefined,
    finalized: tenant.metadata.finalizers?.includes(BOT_TENANT_FINALIZER) ?? false,
    displayName: spec.displayName ?? tenant.metadata.name,
    paused: spec.paused,
    podReady: (statefulSet?.status?.readyReplicas ?? 0) >= 1,
    onDelete: spec.onDelete,
    invalid: parsed.success ? null : `spec is invalid: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`,
  };
};
