// The local pod runtime: each tenant's bot pod is a `node bot-pods/pod.ts` child with a data
// directory (its volume) of its own, restarted when it dies (stack/supervisor.ts).
import { join } from 'node:path';
import { BOT_POD_COMPILE_CACHE_DIR, BOT_POD_NODE_FLAGS, BOT_POD_SCRIPT, botPodProcessEnvironment } from '../core/bot-pod-process.ts';
import type { PodRuntime, PodStatus } from '../core/pod-runtime.ts';
import { warmBotPodCompileCache } from '../bot-pods/warm-compile-cache.ts';
import { botPodEnvironment } from './bot-pod-env.ts';
import { nodeProcess, supervise } from './supervisor.ts';

export type LocalPodRuntimeOptions = {
  readonly cwd: string;
  /** The parent of every pod's data directory: `<volumesDir>/<tenantId>`. */
  readonly volumesDir: string;
  /** The HTTP port of a new pod. */
  readonly port: (tenantId: string) => Promise<number> | number;
  readonly transport: (tenantId: string) => 'simulator' | 'baileys';
  readonly log: (message: string) => void;
  /** Every pod's base environment (its database variables are always removed). */
  readonly env: NodeJS.ProcessEnv;
};

/**
 * The one recipe for a pod's process, started in the code's root: its Node flags, script and environment
 * additions (no database variables; the memory settings of core/bot-pod-process.ts).
 */
export const botPodLaunch = (pod: { tenantId: string; dataDir: string; transport: 'simulator' | 'baileys'; port: number; env?: Record<string, string> }) => ({
  nodeFlags: BOT_POD_NODE_FLAGS,
  script: BOT_POD_SCRIPT,
  env: botPodEnvironment({
    ...botPodProcessEnvironment(),
    ...pod.env,
    BOT_POD_TENANT_ID: pod.tenantId,
    BOT_POD_DATA_DIR: pod.dataDir,
    BOT_POD_TRANSPORT: pod.transport,
    BOT_POD_HTTP_PORT: String(pod.port),
  }),
});

type Pod = { readonly stop: AbortController; supervision: Promise<void>; readonly url: string; runs: number };

export const createLocalPodRuntime = (options: LocalPodRuntimeOptions): PodRuntime & { removeAll(): Promise<void> } => {
  const pods = new Map<string, Pod>();
  // Once, before the first pod: every pod then starts from the compile cache (a failure costs memory, not the pod).
  let warmed: Promise<void> | null = null;
  const warmOnce = () => (warmed ??= warmBotPodCompileCache(join(options.cwd, BOT_POD_COMPILE_CACHE_DIR))
    .catch((error: unknown) => options.log(`bot pods start without a warm compile cache: ${error instanceof Error ? error.message : String(error)}`)));
  const status = (tenantId: string): PodStatus => {
    const pod = pods.get(tenantId);
    if (!pod) return { tenantId, phase: 'absent', url: null, restarts: 0 };
    return { tenantId, phase: 'running', url: pod.url, restarts: Math.max(0, pod.runs - 1) };
  };
  const removePod = async (tenantId: string) => {
    const pod = pods.get(tenantId);
    if (!pod) return;
    pods.delete(tenantId);
    pod.stop.abort();
    await pod.supervision;
  };
  return {
    podStatus: async (tenantId) => status(tenantId),
    removePod,
    async ensurePod({ tenantId }) {
      if (pods.has(tenantId)) return status(tenantId);
      const port = await options.port(tenantId);
      await warmOnce();
      if (pods.has(tenantId)) return status(tenantId);
      const stop = new AbortController();
      const transport = options.transport(tenantId);
      const launch = botPodLaunch({ tenantId, dataDir: join(options.volumesDir, tenantId), transport, port });
      const run = nodeProcess(launch.script, { cwd: options.cwd, signal: stop.signal, env: { ...options.env, ...launch.env }, nodeFlags: launch.nodeFlags });
      const pod: Pod = { stop, url: `http://127.0.0.1:${port}`, runs: 0, supervision: Promise.resolve() };
      pods.set(tenantId, pod);
      // A tenant created through the API gets its pod here: say where it listens (its simulator routes).
      options.log(`bot pod of tenant ${tenantId} ${pod.url} (${transport})`);
      pod.supervision = supervise(`bot pod ${tenantId}`, () => { pod.runs += 1; return run(); }, { log: options.log, signal: stop.signal });
      return status(tenantId);
    },
    async removeAll() {
      await Promise.all([...pods.keys()].map(removePod));
    },
  };
};
