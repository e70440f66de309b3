// The manifests under k8s/ against the tests' real kube-apiserver: each overlay renders, passes a
// server-side dry-run, and the local one really applies (twice: idempotent). Then what a review
// would check by eye, over the rendered objects: hardening, Secrets referenced by name only, every
// variable a known one, the ConfigMap generated from core/config.ts, and the Dockerfile.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { parseConfig, variables } from '../core/config.ts';
import { configMapVariables, isProcessSpecific, renderPlatformEnv, SECRET_VARIABLES } from '../core/config-k8s.ts';
import {
  applyNamespaceAndCrds, kubectlOk, OVERLAYS, PLATFORM_NAMESPACE, renderOverlay, REPO, type Manifest,
} from './support/k8s-manifests.ts';

type Container = {
  name: string; image: string; command?: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: unknown } }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown>;
  volumeMounts?: { name: string; mountPath: string }[];
};
type PodSpec = {
  securityContext?: Record<string, unknown>; containers: Container[]; initContainers?: Container[];
  volumes?: { name: string; emptyDir?: unknown }[]; serviceAccountName?: string; automountServiceAccountToken?: boolean;
};

const rendered = new Map<string, Manifest[]>();
beforeAll(async () => {
  for (const overlay of OVERLAYS) rendered.set(overlay, await renderOverlay(overlay));
});

const workloads = (overlay: string) => rendered.get(overlay)!.filter((object) => object.kind === 'Deployment');
const podSpec = (workload: Manifest) => (workload.spec as { template: { spec: PodSpec } }).template.spec;
const containersOf = (workload: Manifest) => [...podSpec(workload).containers, ...(podSpec(workload).initContainers ?? [])];
const kindAndName = (object: Manifest) => `${object.kind}/${object.metadata!.name}`;

describe.each(OVERLAYS)('%s', (overlay) => {
  test('renders the whole platform', () => {
    const names = rendered.get(overlay)!.map(kindAndName);
    expect(names).toEqual(expect.arrayContaining([
      'Namespace/botinteligente', 'CustomResourceDefinition/bottenants.botinteligente.io', 'ConfigMap/botinteligente-config',
      'ServiceAccount/api', 'ServiceAccount/worker', 'ServiceAccount/operator', 'ServiceAccount/bot-pod',
      'Role/operator', 'RoleBinding/operator', 'Role/api', 'RoleBinding/api',
      'Deployment/api', 'Service/api', 'PodDisruptionBudget/api', 'Deployment/worker', 'Deployment/operator',
      'NetworkPolicy/default-deny',
    ]));
    expect(new Set(names).size).toBe(names.length);
    // Nothing cluster-wide beyond the namespace and the CRD.
    expect(names.filter((name) => /^(ClusterRole|ClusterRoleBinding)\//.test(name))).toEqual([]);
  });

  test('every object carries the platform labels, every workload its component', () => {
    for (const object of rendered.get(overlay)!) {
      expect([kindAndName(object), object.metadata!.labels]).toEqual([kindAndName(object), expect.objectContaining({
        'app.kubernetes.io/name': 'botinteligente', 'app.kubernetes.io/part-of': 'botinteligente',
      })]);
    }
    for (const workload of workloads(overlay)) {
      const template = (workload.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
      expect(template['app.kubernetes.io/component']).toBe(workload.metadata!.name);
      expect(template['app.kubernetes.io/name']).toBe('botinteligente');
    }
  });

  test('every container is non-root, read-only, unprivileged, with resources and a writable /tmp', () => {
    expect(workloads(overlay).length).toBe(3);
    for (const workload of workloads(overlay)) {
      const pod = podSpec(workload);
      expect(pod.securityContext).toEqual(expect.objectContaining({ runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } }));
      for (const container of containersOf(workload)) {
        const where = `${workload.metadata!.name}/${container.name}`;
        expect([where, container.securityContext]).toEqual([where, {
          allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] },
        }]);
        for (const bound of ['requests', 'limits'] as const) {
          expect([where, bound, Object.keys(container.resources?.[bound] ?? {}).sort()]).toEqual([where, bound, ['cpu', 'memory']]);
        }
        const tmp = container.volumeMounts?.find((mount) => mount.mountPath === '/tmp');
        expect([where, pod.volumes?.find((volume) => volume.name === tmp?.name)?.emptyDir]).toEqual([where, expect.anything()]);
      }
    }
  });

  test('Secrets are referenced by name and key only, and every variable set is a known one', () => {
    const objects = rendered.get(overlay)!;
    expect(objects.filter((object) => object.kind === 'Secret').map(kindAndName)).toEqual([]);
    const configMap = objects.find((object) => kindAndName(object) === 'ConfigMap/botinteligente-config')!;
    for (const name of Object.keys(configMap.data!)) {
      expect([name, name in variables, SECRET_VARIABLES[name as keyof typeof variables]]).toEqual([name, true, undefined]);
    }
    for (const workload of workloads(overlay)) {
      for (const container of containersOf(workload)) {
        expect(container.envFrom).toEqual([{ configMapRef: { name: 'botinteligente-config' } }]);
        for (const variable of container.env ?? []) {
          expect([variable.name, variable.name in variables]).toEqual([variable.name, true]);
          // Only credentials are set on a container, each from the Secret and key of core/config-k8s.ts.
          const secret = SECRET_VARIABLES[variable.name as keyof typeof variables];
          expect([variable.name, variable.value, variable.valueFrom?.secretKeyRef]).toEqual([
            variable.name, undefined, expect.objectContaining({ name: secret?.secret, key: secret?.key }),
          ]);
        }
      }
    }
  });

  test('its ConfigMap is a valid configuration for core/config.ts', () => {
    const configMap = rendered.get(overlay)!.find((object) => kindAndName(object) === 'ConfigMap/botinteligente-config')!;
    expect(() => parseConfig(configMap.data!)).not.toThrow();
  });

  test('the worker and bot pods get no ServiceAccount token; the api and operator run as their own', () => {
    const accounts = new Map(rendered.get(overlay)!.filter((object) => object.kind === 'ServiceAccount')
      .map((account) => [account.metadata!.name, (account as { automountServiceAccountToken?: boolean }).automountServiceAccountToken]));
    expect(Object.fromEntries(accounts)).toEqual({ api: undefined, worker: false, operator: undefined, 'bot-pod': false });
    const byName = new Map(workloads(overlay).map((workload) => [workload.metadata!.name, podSpec(workload)]));
    expect(byName.get('worker')).toEqual(expect.objectContaining({ serviceAccountName: 'worker', automountServiceAccountToken: false }));
    expect(byName.get('api')!.serviceAccountName).toBe('api');
    expect(byName.get('operator')!.serviceAccountName).toBe('operator');
  });

  test('passes a server-side dry-run on the real API server, within the restricted Pod Security profile', async () => {
    await applyNamespaceAndCrds(rendered.get(overlay)!);
    const result = await kubectlOk('apply', '--server-side', '--dry-run=server', '-k', overlay);
    expect(result.stdout.trim().split('\n').length).toBe(rendered.get(overlay)!.length);
    // The namespace enforces `restricted`; the API server warns about any pod template that breaks it.
    expect(result.stderr).not.toMatch(/PodSecurity|violate/);
  });
});

test('a real apply of the local overlay creates every object, and applying again changes nothing', async () => {
  const objects = rendered.get('k8s/overlays/local')!;
  await applyNamespaceAndCrds(objects);
  const list = async () => (JSON.parse((await kubectlOk('get', '-k', 'k8s/overlays/local', '-o', 'json')).stdout) as { items: Manifest[] }).items;
  const versions = (items: Manifest[]) => Object.fromEntries(items.map((item) => [kindAndName(item), item.metadata!.resourceVersion]));
  await kubectlOk('apply', '--server-side', '-k', 'k8s/overlays/local');
  const items = await list();
  await kubectlOk('apply', '--server-side', '-k', 'k8s/overlays/local');
  expect(versions(await list())).toEqual(versions(items));
  expect(items.map(kindAndName).sort()).toEqual(objects.map(kindAndName).sort());
  for (const item of items.filter((object) => object.kind !== 'Namespace' && object.kind !== 'CustomResourceDefinition')) {
    expect([kindAndName(item), item.metadata!.namespace]).toEqual([kindAndName(item), PLATFORM_NAMESPACE]);
  }
});

test('the examples outside the overlays (CloudNativePG, Secrets, Temporal values) are in no kustomization', async () => {
  const kustomizations = ['k8s/base', ...OVERLAYS, 'k8s/overlays/production/postgres'];
  const listed = kustomizations.map((directory) => readFileSync(join(REPO, directory, 'kustomization.yaml'), 'utf8')).join('\n');
  expect(listed).not.toMatch(/^\s*- \S*(secret\.example|temporal-values)\.yaml/m);
  expect(readFileSync(join(REPO, 'k8s/overlays/production/kustomization.yaml'), 'utf8')).not.toMatch(/^\s+- postgres/m);
  // The CNPG Cluster renders on its own (its CRD exists only where CloudNativePG is installed).
  const cluster = (await kubectlOk('kustomize', 'k8s/overlays/production/postgres')).stdout;
  for (const role of ['bi_owner', 'bi_app', 'bi_maintenance', 'bi_token_admin']) expect(cluster).toContain(`name: ${role}`);
  expect(cluster).toMatch(/imageName: .*postgresql:17/);
});

test('production runs two replicas of each Deployment, the API behind a PodDisruptionBudget and its health probes', () => {
  const objects = rendered.get('k8s/overlays/production')!;
  expect(Object.fromEntries(workloads('k8s/overlays/production').map((workload) => [workload.metadata!.name, workload.spec!.replicas])))
    .toEqual({ api: 2, worker: 2, operator: 2 });
  expect(objects.find((object) => kindAndName(object) === 'PodDisruptionBudget/api')!.spec).toEqual(expect.objectContaining({ minAvailable: 1 }));
  const api = podSpec(workloads('k8s/overlays/production').find((workload) => workload.metadata!.name === 'api')!).containers[0] as Container
    & Record<'livenessProbe' | 'readinessProbe' | 'startupProbe', { httpGet: { path: string } }>;
  expect([api.startupProbe.httpGet.path, api.livenessProbe.httpGet.path, api.readinessProbe.httpGet.path]).toEqual(['/health/live', '/health/live', '/health/ready']);
});

describe('the platform ConfigMap', () => {
  test('is generated from core/config.ts (run `npm run k8s:config` after adding a variable)', () => {
    expect(readFileSync(join(REPO, 'k8s/base/config/platform.env'), 'utf8')).toBe(renderPlatformEnv());
  });

  test('puts every variable in exactly one place: the ConfigMap, a Secret, or one process only', () => {
    for (const name of Object.keys(variables) as (keyof typeof variables)[]) {
      const places = [configMapVariables().includes(name), SECRET_VARIABLES[name] !== undefined, isProcessSpecific(name)];
      expect([name, places.filter(Boolean).length]).toEqual([name, 1]);
    }
  });

  test('leaves out exactly the bot pods\' own and the local stack\'s variables', () => {
    const left = (Object.keys(variables) as (keyof typeof variables)[]).filter(isProcessSpecific);
    expect(left.filter((name) => !/^(BOT_POD|STACK)_/.test(name))).toEqual([]);
    expect(left).toEqual(expect.arrayContaining(['BOT_POD_TENANT_ID', 'BOT_POD_DATA_DIR', 'STACK_DIR', 'STACK_KUBE_APISERVER_PORT']));
  });

  test('keeps anything that looks like a credential out of it', () => {
    const credentialLike = (Object.keys(variables) as (keyof typeof variables)[])
      // A `_NAME` only names a Secret (BOT_POD_SECRET_NAME), it holds none.
      .filter((name) => /PASSWORD|SECRET|API_KEY|ACCESS_KEY|TOKEN_ADMIN|^DATABASE_.*URL$|^ENCRYPTION_KEYS$/.test(name) && !name.endsWith('_NAME'));
    expect(credentialLike.length).toBeGreaterThan(5);
    for (const name of credentialLike) expect([name, configMapVariables().includes(name)]).toEqual([name, false]);
  });
});

describe('the Dockerfile', () => {
  const dockerfile = readFileSync(join(REPO, 'Dockerfile'), 'utf8');
  const instructions = dockerfile.split('\n').filter((line) => /^[A-Z]+ /.test(line));
  // Each stage: its FROM line and the instructions up to the next one (global ARGs before the first are left out).
  const starts = instructions.flatMap((line, index) => (line.startsWith('FROM ') ? [index] : []));
  const stages = starts.map((start, index) => instructions.slice(start, starts[index + 1]));
  const runtime = stages.at(-1)!;
  // operator/main.ts comes with the operator's branch; until operator/ exists, its absence is expected.
  const present = (file: string) => existsSync(join(REPO, file)) || (file.startsWith('operator/') && !existsSync(join(REPO, 'operator')));

  test('is multi-stage, and its runtime stage runs as a fixed non-root user', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const user = runtime.filter((line) => line.startsWith('USER ')).at(-1);
    expect(user).toBe('USER 10001:10001');
  });

  test('installs production dependencies only, and the pg tools where PG_BIN_DIR points', () => {
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    const pgMajor = /postgresql-client-(\d+)/.exec(dockerfile)?.[1];
    expect(readFileSync(join(REPO, 'k8s/base/config/platform.env'), 'utf8')).toContain(`PG_BIN_DIR=/usr/lib/postgresql/${pgMajor}/bin`);
  });

  test('every entry point it and the manifests run is a file the image holds', () => {
    const cmd = JSON.parse(runtime.find((line) => line.startsWith('CMD '))!.slice(4)) as string[];
    const commands = [cmd, ...OVERLAYS.flatMap((overlay) => workloads(overlay).flatMap(containersOf).map((container) => container.command!))];
    const allowed = readFileSync(join(REPO, '.dockerignore'), 'utf8').split('\n').filter((line) => line.startsWith('!')).map((line) => line.slice(1));
    for (const command of commands) {
      expect(command[0]).toBe('node');
      const file = command[1]!;
      expect([file, present(file)]).toEqual([file, true]);
      expect([file, allowed.some((entry) => file.startsWith(entry))]).toEqual([file, true]);
    }
    expect(allowed).toEqual(expect.arrayContaining(['core/', 'migrations/', 'package.json']));
  });
});

