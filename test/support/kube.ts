// The tests' Kubernetes API server (started by the global setup, stack/kube.ts): an admin client,
// a namespace of each test's own (nothing deletes namespaces here: no controller-manager runs),
// and the platform's CRDs installed from k8s/base/crd.
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ApiextensionsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, KubernetesObjectApi, loadAllYaml, PatchStrategy, type KubernetesObject,
} from '@kubernetes/client-node';
import { loadConfig } from '../../core/config.ts';

const CRD_DIR = new URL('../../k8s/base/crd/', import.meta.url);

export const testKubeConfig = (): KubeConfig => {
  const file = loadConfig().kubernetes.configFile;
  if (file === null) throw new Error('KUBE_CONFIG_FILE is not set: the global setup starts the test API server');
  const kubeconfig = new KubeConfig();
  kubeconfig.loadFromFile(file);
  return kubeconfig;
};

export const createTestNamespace = async (kubeconfig: KubeConfig, prefix = 'test'): Promise<string> => {
  const name = `${prefix}-${randomUUID().slice(0, 8)}`;
  await kubeconfig.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
  return name;
};

/** Server-side applies objects as the given field manager (the way `kubectl apply --server-side` does). */
export const applyObjects = async (kubeconfig: KubeConfig, objects: readonly KubernetesObject[], fieldManager = 'botinteligente-tests') => {
  const client = KubernetesObjectApi.makeApiClient(kubeconfig);
  for (const object of objects) await client.patch(object, undefined, undefined, fieldManager, true, PatchStrategy.ServerSideApply);
};

/** Installs the platform's CRDs and waits until each one is established and its first list answers. */
export const installCrds = async (kubeconfig: KubeConfig) => {
  const crds = readdirSync(CRD_DIR).filter((file) => file.endsWith('.yaml'))
    .flatMap((file) => loadAllYaml(readFileSync(join(CRD_DIR.pathname, file), 'utf8')) as KubernetesObject[]);
  await applyObjects(kubeconfig, crds);
  const extensions = kubeconfig.makeApiClient(ApiextensionsV1Api);
  for (const crd of crds) {
    for (const deadline = Date.now() + 30_000; ; await sleep(100)) {
      const { status } = await extensions.readCustomResourceDefinition({ name: crd.metadata!.name! });
      if (status?.conditions?.some((condition) => condition.type === 'Established' && condition.status === 'True')) break;
      if (Date.now() > deadline) throw new Error(`CRD ${crd.metadata!.name} not established within 30 s`);
    }
    // Established is not enough: until the resource's cache is filled, calls answer 429 "storage is (re)initializing".
    const { group, versions, names } = (crd as unknown as { spec: { group: string; versions: { name: string }[]; names: { plural: string } } }).spec;
    const objects = kubeconfig.makeApiClient(CustomObjectsApi);
    for (const deadline = Date.now() + 30_000; ; await sleep(100)) {
      const answered = await objects.listClusterCustomObject({ group, version: versions[0]!.name, plural: names.plural, limit: 1 })
        .then(() => true, (error: unknown) => {
          if ((error as { code?: number }).code !== 429 || Date.now() > deadline) throw error;
          return false;
        });
      if (answered) break;
    }
  }
};
