import type { V1Service } from '@kubernetes/client-node';
import { BOT_POD_HTTP_PORT, botPodObjectName, botPodSelector, tenantObjectLabels } from './labels.ts';
import { ownerReferenceTo } from './owner-reference.ts';
import type { BotTenantResource } from './resource.ts';

/** The headless Service the StatefulSet names: a stable DNS name for the pod's HTTP port. */
export const desiredService = (tenant: BotTenantResource): V1Service => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: {
    name: botPodObjectName(tenant.spec.tenantId),
    namespace: tenant.metadata.namespace,
    labels: tenantObjectLabels(tenant.spec.tenantId),
    ownerReferences: [ownerReferenceTo(tenant)],
  },
  spec: {
    clusterIP: 'None',
    selector: botPodSelector(tenant.spec.tenantId),
    ports: [{ name: 'http', port: BOT_POD_HTTP_PORT, targetPort: 'http', protocol: 'TCP' }],
  },
});
