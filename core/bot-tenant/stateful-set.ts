// The tenant's bot pod as a StatefulSet: one replica (none while paused), its sessions on a volume
// claimed from a template, hardened the way every platform container is.
import type { V1PersistentVolumeClaim, V1StatefulSet } from '@kubernetes/client-node';
import { BOT_POD_NODE_FLAGS, BOT_POD_SCRIPT, botPodProcessEnvironment } from '../bot-pod-process.ts';
import {
  BOT_POD_HTTP_PORT, BOT_POD_SERVICE_ACCOUNT, botPodObjectName, botPodSelector, PLATFORM_CONFIG_MAP,
  SESSIONS_MOUNT_PATH, SESSIONS_VOLUME, tenantObjectLabels,
} from './labels.ts';
import { ownerReferenceTo } from './owner-reference.ts';
import type { BotTenantResource } from './resource.ts';

export type BotPodTemplateSettings = {
  readonly image: string;
  /** secretChecksum() of the tenant's Secret: a new value rolls the pod. */
  readonly secretChecksum: string;
  /**
   * The storage of the StatefulSet as it exists: the API server refuses any change to its claim
   * templates, so a later edit of spec.storage applies only to a StatefulSet created anew (docs/operator.md).
   */
  readonly existingStorage?: BotTenantResource['spec']['storage'];
};

export const SECRET_CHECKSUM_ANNOTATION = 'botinteligente.io/secret-checksum';

const claimTemplate = (tenantId: string, storage: BotTenantResource['spec']['storage']): V1PersistentVolumeClaim => ({
  metadata: { name: SESSIONS_VOLUME, labels: tenantObjectLabels(tenantId) },
  spec: {
    accessModes: ['ReadWriteOnce'],
    resources: { requests: { storage: storage.size } },
    ...(storage.storageClassName === undefined ? {} : { storageClassName: storage.storageClassName }),
  },
});

const probe = (path: string, periodSeconds: number) => ({
  httpGet: { path, port: 'http' }, periodSeconds, timeoutSeconds: 3, failureThreshold: 3,
});

export const desiredStatefulSet = (tenant: BotTenantResource, settings: BotPodTemplateSettings): V1StatefulSet => {
  const { tenantId } = tenant.spec;
  const name = botPodObjectName(tenantId);
  const labels = tenantObjectLabels(tenantId);
  const { requests, limits } = tenant.spec.resources;
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace: tenant.metadata.namespace, labels, ownerReferences: [ownerReferenceTo(tenant)] },
    spec: {
      replicas: tenant.spec.paused ? 0 : 1,
      serviceName: name,
      selector: { matchLabels: botPodSelector(tenantId) },
      // The operator decides what happens to the volume (spec.onDelete.volume), not the StatefulSet.
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
      template: {
        metadata: { labels, annotations: { [SECRET_CHECKSUM_ANNOTATION]: settings.secretChecksum } },
        spec: {
          serviceAccountName: BOT_POD_SERVICE_ACCOUNT,
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: {
            runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [{
            name: 'bot-pod',
            image: settings.image,
            command: ['node', ...BOT_POD_NODE_FLAGS, BOT_POD_SCRIPT],
            envFrom: [{ configMapRef: { name: PLATFORM_CONFIG_MAP } }, { secretRef: { name } }],
            // Explicit variables win over envFrom: these are this pod's own.
            env: [
              { name: 'BOT_POD_TENANT_ID', value: tenantId },
              { name: 'BOT_POD_DATA_DIR', value: SESSIONS_MOUNT_PATH },
              { name: 'BOT_POD_TRANSPORT', value: tenant.spec.transport },
              { name: 'BOT_POD_HTTP_HOST', value: '0.0.0.0' },
              { name: 'BOT_POD_HTTP_PORT', value: String(BOT_POD_HTTP_PORT) },
              // The image's build filled the compile cache (Dockerfile); it is read-only here, and read.
              ...Object.entries(botPodProcessEnvironment()).map(([name, value]) => ({ name, value })),
            ],
            ports: [{ name: 'http', containerPort: BOT_POD_HTTP_PORT, protocol: 'TCP' }],
            resources: {
              requests: { cpu: requests.cpu, memory: requests.memory },
              limits: { memory: limits.memory, ...(limits.cpu === undefined ? {} : { cpu: limits.cpu }) },
            },
            securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
            livenessProbe: probe('/health/live', 10),
            readinessProbe: probe('/health/ready', 5),
            volumeMounts: [{ name: SESSIONS_VOLUME, mountPath: SESSIONS_MOUNT_PATH }, { name: 'tmp', mountPath: '/tmp' }],
          }],
          volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }],
        },
      },
      volumeClaimTemplates: [claimTemplate(tenantId, settings.existingStorage ?? tenant.spec.storage)],
    },
  };
};

/** The storage a StatefulSet was created with (what desiredStatefulSet must keep). */
export const storageOf = (statefulSet: V1StatefulSet): BotTenantResource['spec']['storage'] | undefined => {
  const template = statefulSet.spec?.volumeClaimTemplates?.find((claim) => claim.metadata?.name === SESSIONS_VOLUME);
  const size = template?.spec?.resources?.requests?.storage;
  if (template === undefined || size === undefined) return undefined;
  const storageClassName = template.spec?.storageClassName;
  return { size: String(size), ...(storageClassName === undefined ? {} : { storageClassName }) };
};
