// The platform's manifests (k8s/) as kubectl sees them: rendered by kustomize, and applied to the
// tests' real API server through the kubectl that scripts/kube-tools.sh built.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { KubernetesObject } from '@kubernetes/client-node';
import { loadConfig } from '../../core/config.ts';

export const REPO = resolve(new URL('../..', import.meta.url).pathname);
export const OVERLAYS = ['k8s/overlays/local', 'k8s/overlays/production'] as const;
export const PLATFORM_NAMESPACE = 'botinteligente';

const run = promisify(execFile);

export type KubectlResult = { code: number; stdout: string; stderr: string };

/** kubectl against the test API server as its admin (who may impersonate); never throws on a non-zero exit. */
export const kubectl = async (...args: string[]): Promise<KubectlResult> => {
  const config = loadConfig();
  if (config.kubernetes.configFile === null) throw new Error('KUBE_CONFIG_FILE is not set: the global setup starts the test API server');
  try {
    const { stdout, stderr } = await run(resolve(config.stack.toolsDir, 'bin', 'kubectl'), ['--kubeconfig', config.kubernetes.configFile, ...args], {
      cwd: REPO, maxBuffer: 32 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number | string; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
};

/** Same, failing the test with kubectl's own message on a non-zero exit. */
export const kubectlOk = async (...args: string[]): Promise<KubectlResult> => {
  const result = await kubectl(...args);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return result;
};

export type Manifest = KubernetesObject & { spec?: Record<string, unknown>; data?: Record<string, string> };

/** Runs kubectl on a temporary file holding `content` (`-f <file>`: execFile has no stdin input), then removes it. */
const withFile = async <T>(name: string, content: string, use: (file: string) => Promise<T>): Promise<T> => {
  const directory = mkdtempSync(join(tmpdir(), 'k8s-'));
  try {
    writeFileSync(join(directory, name), content);
    return await use(join(directory, name));
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
};

/**
 * The objects an overlay renders to, as plain JSON (client-node's YAML loader would turn them into
 * its model classes, renaming fields such as a schema's `default`); kubectl converts, sending nothing.
 */
export const renderOverlay = async (directory: string): Promise<Manifest[]> => {
  const rendered = (await kubectlOk('kustomize', directory)).stdout;
  const { stdout } = await withFile('objects.yaml', rendered, (file) => kubectlOk('create', '--dry-run=client', '-o', 'json', '-f', file));
  // One pretty-printed JSON document per object: only their own braces start a line.
  return JSON.parse(`[${stdout.replace(/^}\n{/gm, '},{')}]`) as Manifest[];
};

/**
 * Applies the overlay's Namespace and CRDs for real and waits until the CRDs are established: a
 * server-side dry-run of the whole overlay cannot see a Namespace or CRD the same apply creates.
 */
export const applyNamespaceAndCrds = async (objects: readonly Manifest[]) => {
  const first = objects.filter((object) => object.kind === 'Namespace' || object.kind === 'CustomResourceDefinition');
  await withFile('objects.json', JSON.stringify({ apiVersion: 'v1', kind: 'List', items: first }),
    (file) => kubectlOk('apply', '--server-side', '-f', file));
  for (const crd of first.filter((object) => object.kind === 'CustomResourceDefinition')) {
    await kubectlOk('wait', '--for=condition=Established', `crd/${crd.metadata!.name!}`, '--timeout=60s');
  }
};
