// The tenant's own Secret: a copy of the platform's bot pod Secret (BOT_POD_SECRET_NAME) without any
// database variable. Each pod references only its own Secret, so the pod template never names a
// platform-wide Secret, a tenant's credentials can later diverge (an S3 key scoped to its prefix)
// without touching the others, and a pod can never be handed the database's credentials by mistake.
import { createHash } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import { botPodObjectName, tenantObjectLabels } from './labels.ts';
import { ownerReferenceTo } from './owner-reference.ts';
import type { BotTenantResource } from './resource.ts';

/** Pods hold no database credentials (stack/bot-pod-env.ts is the local twin of this rule). */
const isPodVariable = (key: string) => !key.startsWith('DATABASE_');

/** `sourceData`: the platform Secret's `data` (base64 values), copied as they are. */
export const desiredSecret = (tenant: BotTenantResource, sourceData: Readonly<Record<string, string>>): V1Secret => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: {
    name: botPodObjectName(tenant.spec.tenantId),
    namespace: tenant.metadata.namespace,
    labels: tenantObjectLabels(tenant.spec.tenantId),
    ownerReferences: [ownerReferenceTo(tenant)],
  },
  type: 'Opaque',
  data: Object.fromEntries(Object.entries(sourceData).filter(([key]) => isPodVariable(key)).sort(([a], [b]) => a.localeCompare(b))),
});

/** A digest of the Secret's content, put on the pod template: a rotated credential restarts the pod. */
export const secretChecksum = (secret: V1Secret): string =>
  createHash('sha256').update(JSON.stringify(secret.data ?? {})).digest('hex');
