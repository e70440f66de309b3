// The BotTenant of a tenant the API created (the second door): the same resource a platform
// engineer would `kubectl apply`, with the CRD's defaults left to the API server.
import { BOT_TENANT } from './resource.ts';
import { TENANT_ID_LABEL } from './labels.ts';

export type NewBotTenant = {
  readonly tenantId: string;
  /** The tenant's slug: already a lower-case DNS label, so it names the resource. */
  readonly slug: string;
  readonly displayName: string;
  readonly namespace: string;
  readonly transport?: 'baileys' | 'simulator';
};

export type BotTenantManifest = {
  apiVersion: typeof BOT_TENANT.apiVersion;
  kind: typeof BOT_TENANT.kind;
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  spec: { tenantId: string; displayName: string; transport?: 'baileys' | 'simulator' };
};

/** A slug may end with a dash; a Kubernetes name may not. */
export const botTenantNameFor = (slug: string): string => slug.replace(/-+$/, '');

export const botTenantFor = (tenant: NewBotTenant): BotTenantManifest => ({
  apiVersion: BOT_TENANT.apiVersion,
  kind: BOT_TENANT.kind,
  metadata: { name: botTenantNameFor(tenant.slug), namespace: tenant.namespace, labels: { [TENANT_ID_LABEL]: tenant.tenantId } },
  spec: {
    tenantId: tenant.tenantId,
    displayName: tenant.displayName,
    ...(tenant.transport === undefined ? {} : { transport: tenant.transport }),
  },
});
