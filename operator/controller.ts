// The controller: informers (list + watch) over the BotTenants and the objects made for them, each
// event turned into a "something changed" for the tenant's workflow. It keeps no state of its own
// beyond the informers' caches: the workflow reads what it needs from the API server itself.
import {
  makeInformer, type Informer, type KubernetesListObject, type KubernetesObject, type ObjectCache,
} from '@kubernetes/client-node';
import { MANAGED_OBJECTS_SELECTOR, TENANT_ID_LABEL } from '../core/bot-tenant/labels.ts';
import { BOT_TENANT, type BotTenantResource } from '../core/bot-tenant/resource.ts';
import type { KubeClients } from '../core/kubernetes/clients.ts';
import type { BotTenantRef } from '../core/temporal/bot-tenant.ts';

export type ControllerOptions = {
  readonly kube: KubeClients;
  readonly changed: (ref: BotTenantRef) => Promise<void>;
  readonly log: (message: string, details?: object) => void;
  /** Wait before an informer whose list or watch failed starts again (a new CRD's first watch answers 429). */
  readonly restartDelayMs?: number;
};

export type Controller = { start(): Promise<void>; stop(): Promise<void> };

type Watched = Informer<KubernetesObject> & ObjectCache<KubernetesObject>;

export const createController = (options: ControllerOptions): Controller => {
  const { kube } = options;
  const { namespace } = kube;
  const restartDelayMs = options.restartDelayMs ?? 1_000;
  const signalRetryMs = 5_000;
  let stopped = true;
  const informers: Watched[] = [];

  const botTenants = makeInformer<KubernetesObject>(kube.kubeconfig,
    `/apis/${BOT_TENANT.group}/${BOT_TENANT.version}/namespaces/${namespace}/${BOT_TENANT.plural}`,
    () => kube.customObjects.listNamespacedCustomObject({ group: BOT_TENANT.group, version: BOT_TENANT.version, namespace, plural: BOT_TENANT.plural }) as Promise<KubernetesListObject<KubernetesObject>>);

  /** Tenants whose signal failed (Temporal away): one retry each, whatever the number of events meanwhile. */
  const retrying = new Map<string, NodeJS.Timeout>();
  const notify = (ref: BotTenantRef, cause: string) => {
    options.changed(ref).catch((error: unknown) => {
      options.log('could not signal the tenant workflow, retrying', { ...ref, cause, error: String(error) });
      if (stopped || retrying.has(ref.tenantId)) return;
      retrying.set(ref.tenantId, setTimeout(() => {
        retrying.delete(ref.tenantId);
        if (!stopped) notify(ref, 'retry');
      }, signalRetryMs));
    });
  };

  const onBotTenant = (cause: string) => (object: KubernetesObject) => {
    const tenant = object as BotTenantResource;
    const tenantId = tenant.spec?.tenantId;
    if (typeof tenantId === 'string') notify({ namespace, name: tenant.metadata.name, tenantId }, cause);
  };

  /** An object of a tenant: the tenant's BotTenant is found by its tenant id in the informer's cache. */
  const onTenantObject = (cause: string) => (object: KubernetesObject) => {
    const tenantId = object.metadata?.labels?.[TENANT_ID_LABEL];
    if (tenantId === undefined) return;
    const owner = botTenants.list(namespace).find((candidate) => (candidate as BotTenantResource).spec?.tenantId === tenantId);
    // No BotTenant: an object left behind (a retained volume); nothing to converge.
    if (owner !== undefined) notify({ namespace, name: owner.metadata!.name!, tenantId }, cause);
  };

  const tenantObjects = (path: string, list: () => Promise<KubernetesListObject<KubernetesObject>>) =>
    makeInformer<KubernetesObject>(kube.kubeconfig, path, list, MANAGED_OBJECTS_SELECTOR);
  const selector = { namespace, labelSelector: MANAGED_OBJECTS_SELECTOR };
  const watched: [Watched, (cause: string) => (object: KubernetesObject) => void, string][] = [
    [botTenants, onBotTenant, 'BotTenant'],
    [tenantObjects(`/apis/apps/v1/namespaces/${namespace}/statefulsets`, () => kube.apps.listNamespacedStatefulSet(selector)), onTenantObject, 'StatefulSet'],
    [tenantObjects(`/api/v1/namespaces/${namespace}/services`, () => kube.core.listNamespacedService(selector)), onTenantObject, 'Service'],
    [tenantObjects(`/api/v1/namespaces/${namespace}/secrets`, () => kube.core.listNamespacedSecret(selector)), onTenantObject, 'Secret'],
    [tenantObjects(`/api/v1/namespaces/${namespace}/persistentvolumeclaims`, () => kube.core.listNamespacedPersistentVolumeClaim(selector)), onTenantObject, 'PersistentVolumeClaim'],
  ];

  const startInformer = async (informer: Watched, kind: string): Promise<void> => {
    while (!stopped) {
      try {
        await informer.start();
        return;
      } catch (error) {
        options.log('informer failed to start, retrying', { kind, error: String(error) });
        await new Promise((resolve) => setTimeout(resolve, restartDelayMs));
      }
    }
  };

  for (const [informer, handler, kind] of watched) {
    for (const verb of ['add', 'update', 'delete'] as const) informer.on(verb, handler(`${kind} ${verb}`));
    informer.on('error', (error: unknown) => {
      if (stopped) return;
      options.log('watch failed, restarting', { kind, error: String(error) });
      setTimeout(() => void startInformer(informer, kind), restartDelayMs);
    });
    informers.push(informer);
  }

  return {
    async start() {
      stopped = false;
      // BotTenants first: the other informers' events are mapped to tenants through its cache.
      await startInformer(botTenants, 'BotTenant');
      await Promise.all(watched.slice(1).map(([informer, , kind]) => startInformer(informer, kind)));
    },
    async stop() {
      stopped = true;
      for (const timer of retrying.values()) clearTimeout(timer);
      retrying.clear();
      await Promise.all(informers.map((informer) => informer.stop()));
    },
  };
};
