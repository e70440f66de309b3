// The operator under test: `node operator/main.ts` as a child, in a namespace of the test's own,
// with the platform Secret its tenants' Secrets are copied from, and helpers to watch it converge.
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChildProcess } from 'node:child_process';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { loadConfig } from '../../core/config.ts';
import { createKubeClients, type KubeClients } from '../../core/kubernetes/clients.ts';
import { BOT_TENANT, type BotTenantCondition, type BotTenantResource } from '../../core/bot-tenant/resource.ts';
import { createTestNamespace, installCrds, testKubeConfig } from './kube.ts';
import type { ProcessGroup } from './processes.ts';

export const PLATFORM_SECRET = 'botinteligente-bot-pod';

export const operatorEnvironment = (namespace: string) => ({ KUBE_NAMESPACE: namespace, OPERATOR_TASK_QUEUE: `operator-${namespace}` });

/** Starts the operator; its output goes to `<STACK_DIR>/logs/operator-<namespace>.log` (read it when a test fails). */
export const startOperator = async (processes: ProcessGroup, namespace: string): Promise<ChildProcess> => {
  const child = await processes.start(['operator/main.ts'], { env: operatorEnvironment(namespace), readyText: 'operator started' });
  const logs = join(loadConfig().stack.dir, 'logs');
  mkdirSync(logs, { recursive: true });
  const file = createWriteStream(join(logs, `operator-${namespace}.log`), { flags: 'a' });
  child.stdout!.pipe(file);
  child.stderr!.pipe(file);
  return child;
};

/** The platform Secret: what the pods may have, plus a database URL that must never reach a pod. */
export const createPlatformSecret = async (kubeconfig: KubeConfig, namespace: string) => {
  await kubeconfig.makeApiClient(CoreV1Api).createNamespacedSecret({
    namespace,
    body: { metadata: { name: PLATFORM_SECRET }, stringData: { S3_SECRET_ACCESS_KEY: 'test-secret-key', DATABASE_URL: 'postgres://never:for@pods/x' } },
  });
};

export const waitUntil = async <T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 60_000): Promise<T> => {
  let last: unknown;
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(200)) {
    try {
      const value = await probe();
      if (value !== null && value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
  }
  throw new Error(`timed out waiting for ${what}${last === undefined ? '' : `: ${String(last)}`}`);
};

export type TestCluster = {
  readonly kube: KubeClients;
  createBotTenant(name: string, spec: Record<string, unknown>): Promise<BotTenantResource>;
  getBotTenant(name: string): Promise<BotTenantResource | null>;
  patchBotTenant(name: string, patch: object[]): Promise<void>;
  deleteBotTenant(name: string): Promise<void>;
  condition(name: string, type: BotTenantCondition['type']): Promise<BotTenantCondition | undefined>;
};

export const testCluster = (kubeconfig: KubeConfig, namespace: string): TestCluster => {
  const kube = createKubeClients(kubeconfig, namespace);
  const object = (name: string) => ({ group: BOT_TENANT.group, version: BOT_TENANT.version, plural: BOT_TENANT.plural, namespace, name });
  const getBotTenant = async (name: string) => {
    try {
      return await kube.customObjects.getNamespacedCustomObject(object(name)) as BotTenantResource;
    } catch (error) {
      if ((error as { code?: number }).code === 404) return null;
      throw error;
    }
  };
  return {
    kube,
    getBotTenant,
    createBotTenant: async (name, spec) => await kube.customObjects.createNamespacedCustomObject({
      group: BOT_TENANT.group, version: BOT_TENANT.version, plural: BOT_TENANT.plural, namespace,
      body: { apiVersion: BOT_TENANT.apiVersion, kind: BOT_TENANT.kind, metadata: { name }, spec },
    }) as BotTenantResource,
    patchBotTenant: async (name, patch) => {
      await kube.customObjects.patchNamespacedCustomObject({ ...object(name), body: patch });
    },
    deleteBotTenant: async (name) => {
      await kube.customObjects.deleteNamespacedCustomObject(object(name));
    },
    condition: async (name, type) => (await getBotTenant(name))?.status?.conditions?.find((condition) => condition.type === type),
  };
};

/**
 * A namespace of the test's own with the CRDs, the platform Secret, the platform worker and the
 * operator running: what every operator test starts from.
 */
export const startOperatorCluster = async (processes: ProcessGroup, prefix: string): Promise<{ namespace: string; cluster: TestCluster }> => {
  const kubeconfig = testKubeConfig();
  await installCrds(kubeconfig);
  const namespace = await createTestNamespace(kubeconfig, prefix);
  await createPlatformSecret(kubeconfig, namespace);
  await processes.start(['worker/main.ts'], { readyText: 'worker started' });
  await startOperator(processes, namespace);
  return { namespace, cluster: testCluster(kubeconfig, namespace) };
};
