// How a process reaches the Kubernetes API server, from `Config['kubernetes']`: a kubeconfig file
// when one is named (tests, a laptop), the pod's ServiceAccount otherwise. Shared by the operator
// and anything else that talks to the cluster (the kubernetes pod runtime).
import {
  AppsV1Api, CoordinationV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, KubernetesObjectApi,
} from '@kubernetes/client-node';
import type { Config } from '../config.ts';

export const loadKubeConfig = (kubernetes: Config['kubernetes']): KubeConfig => {
  const kubeconfig = new KubeConfig();
  if (kubernetes.configFile === null) kubeconfig.loadFromCluster();
  else kubeconfig.loadFromFile(kubernetes.configFile);
  return kubeconfig;
};

export type KubeClients = {
  readonly kubeconfig: KubeConfig;
  /** The namespace every object of the platform lives in (KUBE_NAMESPACE). */
  readonly namespace: string;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly customObjects: CustomObjectsApi;
  readonly coordination: CoordinationV1Api;
  /** Generic object client: server-side apply of any kind. */
  readonly objects: KubernetesObjectApi;
};

export const createKubeClients = (kubeconfig: KubeConfig, namespace: string): KubeClients => ({
  kubeconfig,
  namespace,
  core: kubeconfig.makeApiClient(CoreV1Api),
  apps: kubeconfig.makeApiClient(AppsV1Api),
  customObjects: kubeconfig.makeApiClient(CustomObjectsApi),
  coordination: kubeconfig.makeApiClient(CoordinationV1Api),
  objects: KubernetesObjectApi.makeApiClient(kubeconfig),
});

/** The HTTP status of a failed API call (null: no answer at all, e.g. connection refused). */
export const kubeStatusOf = (error: unknown): number | null => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : null;
};

/** The API server's own words for a failed call (its Status message), not the whole HTTP exchange. */
export const kubeMessageOf = (error: unknown): string => {
  const body = (error as { body?: unknown } | null)?.body;
  if (typeof body === 'string') {
    try {
      const message = (JSON.parse(body) as { message?: unknown }).message;
      if (typeof message === 'string') return message;
    } catch {
      // not a Status object: fall through
    }
  }
  return error instanceof Error ? error.message.split('\n')[0]! : String(error);
};
