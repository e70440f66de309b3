// The local pod runtime: each tenant's bot pod is a `node bot-pods/pod.ts` child with a data
// directory (its volume) of its own, restarted when it dies (stack/supervisor.ts).
import { join } from 'node:path';
import type { PodRuntime, PodStatus } from '../core/pod-runtime.ts';
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

/** The one recipe for a pod's process: its script and its environment additions (no database variables). */
export const botPodLaunch = (pod: { tenantId: string; dataDir: string; transport: 'simulator' | 'baileys'; port: number; env?: Record<string, string> }) => ({
  script: 'bot-pods/pod.ts',
  env: botPodEnvironment({
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
      if (pods.has(tenantId)) return status(tenantId);
      const stop = new AbortController();
      const transport = options.transport(tenantId);
      const launch = botPodLaunch({ tenantId, dataDir: join(options.volumesDir, tenantId), transport, port });
      const run = nodeProcess(launch.script, { cwd: options.cwd, signal: stop.signal, env: { ...options.env, ...launch.env } });
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
