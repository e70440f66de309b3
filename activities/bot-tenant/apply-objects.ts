// Server-side applies the tenant's Secret, Service and StatefulSet as field manager `botinteligente`,
// forced: a field someone changed by hand is taken back, an object deleted by hand is created again.
import { PatchStrategy, type KubernetesObject, type V1Secret, type V1Service } from '@kubernetes/client-node';
import { ApplicationFailure } from '@temporalio/common';
import { botPodObjectName, FIELD_MANAGER } from '../../core/bot-tenant/labels.ts';
import { botTenantSpec } from '../../core/bot-tenant/resource.ts';
import { desiredSecret, secretChecksum } from '../../core/bot-tenant/secret.ts';
import { desiredService } from '../../core/bot-tenant/service.ts';
import { desiredStatefulSet, storageOf } from '../../core/bot-tenant/stateful-set.ts';
import type { KubeClients } from '../../core/kubernetes/clients.ts';
import type { BotTenantRef } from '../../core/temporal/bot-tenant.ts';
import { kubeCall } from './kube-call.ts';
import { getBotTenant } from './read-bot-tenant.ts';

export type BotPodSettings = {
  readonly image: string;
  /** The platform Secret each tenant's Secret is copied from (BOT_POD_SECRET_NAME). */
  readonly sourceSecretName: string;
};

export class PlatformSecretMissingError extends Error {
  override readonly name = 'PlatformSecretMissingError';
}

const apply = (kube: KubeClients, object: KubernetesObject) =>
  kubeCall(`apply ${object.kind} ${object.metadata?.name}`,
    () => kube.objects.patch(object, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply));

/**
 * A hand edit of a list entry's key (a port number) belongs to its editor, so the apply adds ours
 * beside it and the API server refuses the duplicate name: the headless Service holds no state, so
 * it is made again.
 */
const applyService = async (kube: KubeClients, service: V1Service) => {
  try {
    await apply(kube, service);
  } catch (error) {
    if (!(error instanceof ApplicationFailure) || !error.message.includes(' 422 ')) throw error;
    await kubeCall(`delete Service ${service.metadata!.name}`,
      () => kube.core.deleteNamespacedService({ name: service.metadata!.name!, namespace: service.metadata!.namespace! }), { ifNotFound: () => undefined });
    await apply(kube, service);
  }
};

const sourceSecretData = async (kube: KubeClients, namespace: string, name: string): Promise<Record<string, string>> => {
  const secret: V1Secret | null = await kubeCall(`read Secret ${name}`,
    () => kube.core.readNamespacedSecret({ name, namespace }), { ifNotFound: () => null });
  if (secret === null) {
    const missing = new PlatformSecretMissingError(`the platform Secret ${name} (BOT_POD_SECRET_NAME) does not exist in namespace ${namespace}`);
    throw ApplicationFailure.create({ type: missing.name, message: missing.message, nonRetryable: true });
  }
  return secret.data ?? {};
};

export const applyBotPodObjects = (kube: KubeClients, settings: BotPodSettings) => async (ref: BotTenantRef): Promise<void> => {
  const stored = await getBotTenant(kube, ref);
  if (stored === null || stored.metadata.deletionTimestamp !== undefined) return;
  const tenant = { ...stored, spec: botTenantSpec.parse(stored.spec) };
  const secret = desiredSecret(tenant, await sourceSecretData(kube, ref.namespace, settings.sourceSecretName));
  const existing = await kubeCall(`read StatefulSet ${botPodObjectName(ref.tenantId)}`,
    () => kube.apps.readNamespacedStatefulSet({ name: botPodObjectName(ref.tenantId), namespace: ref.namespace }), { ifNotFound: () => null });
  const existingStorage = existing === null ? undefined : storageOf(existing);
  // Each object is applied even when another fails: one broken object does not hold the others back.
  const outcomes = await Promise.allSettled([
    apply(kube, secret),
    applyService(kube, desiredService(tenant)),
    apply(kube, desiredStatefulSet(tenant, {
      image: settings.image, secretChecksum: secretChecksum(secret), ...(existingStorage === undefined ? {} : { existingStorage }),
    })),
  ]);
  const failed = outcomes.find((outcome) => outcome.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
};
