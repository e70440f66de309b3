// The Kubernetes pod runtime: a tenant's pod is its BotTenant, which the operator converges into a
// StatefulSet (docs/operator.md). This side only creates, finds and deletes the resource, so it
// needs bottenants get/list/create, the API's Role; removePod also needs delete, which that Role
// does not grant: the API's tenant delete leaves the BotTenant to kubectl (docs/tenant-delete.md).
import type { PodRuntime, PodStatus, PodTenant } from '../pod-runtime.ts';
import { botTenantFor } from '../bot-tenant/new-bot-tenant.ts';
import { BOT_TENANT, type BotTenantResource } from '../bot-tenant/resource.ts';
import { kubeStatusOf, type KubeClients } from './clients.ts';

const { group, version, plural } = BOT_TENANT;

/** The BotTenant name a new tenant would get is held by another tenant's resource (applied with kubectl). */
export class BotTenantNameTakenError extends Error {
  override readonly name = 'BotTenantNameTakenError';
}

const created409Name = (tenant: PodTenant) => botTenantFor({ ...tenant, namespace: '' }).metadata.name;

export const createKubernetesPodRuntime = (clients: KubeClients): PodRuntime => {
  const { customObjects, namespace } = clients;

  // By spec.tenantId (a selectable field of the CRD): a BotTenant applied with kubectl under any name is found too.
  const find = async (tenantId: string): Promise<BotTenantResource | null> => {
    const list = await customObjects.listNamespacedCustomObject({
      group, version, namespace, plural, fieldSelector: `spec.tenantId=${tenantId}`,
    }) as { items: BotTenantResource[] };
    return list.items[0] ?? null;
  };

  const statusOf = (tenantId: string, resource: BotTenantResource | null): PodStatus => ({
    tenantId,
    phase: resource === null || resource.metadata.deletionTimestamp !== undefined ? 'absent' : 'running',
    // In the cluster, the pod answers on its headless Service; nothing outside it needs the address.
    url: null,
    restarts: 0,
  });

  return {
    async ensurePod(tenant: PodTenant) {
      const existing = await find(tenant.tenantId);
      if (existing) return statusOf(tenant.tenantId, existing);
      try {
        const created = await customObjects.createNamespacedCustomObject({
          group, version, namespace, plural, body: botTenantFor({ ...tenant, namespace }),
        }) as BotTenantResource;
        return statusOf(tenant.tenantId, created);
      } catch (error) {
        if (kubeStatusOf(error) !== 409) throw error;
        // Created meanwhile by another replica (the same resource), or the name is another tenant's.
        const raced = await find(tenant.tenantId);
        if (!raced) throw new BotTenantNameTakenError(`the BotTenant ${created409Name(tenant)} belongs to another tenant`, { cause: error });
        return statusOf(tenant.tenantId, raced);
      }
    },
    async removePod(tenantId) {
      const existing = await find(tenantId);
      if (!existing) return;
      try {
        await customObjects.deleteNamespacedCustomObject({ group, version, namespace, plural, name: existing.metadata.name });
      } catch (error) {
        if (kubeStatusOf(error) !== 404) throw error;
      }
    },
    async podStatus(tenantId) {
      return statusOf(tenantId, await find(tenantId));
    },
  };
};
