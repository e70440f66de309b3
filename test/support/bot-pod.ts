// A real bot pod (bot-pods/pod.ts), on the simulator transport unless told otherwise, as a child
// process with a volume of its own, for tests and benchmarks. It is launched the way the local pod
// runtime launches one (botPodLaunch), but unsupervised: a test that kills it restarts it itself.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readJournal } from '../../bot-pods/journal.ts';
import { botPodLaunch } from '../../stack/local-pod-runtime.ts';
import type { ProcessGroup } from './processes.ts';

export type SimulatedSend = { jid: string; text: string; waMessageId: string };

export type BotPodHandle = {
  readonly child: ChildProcess;
  readonly dataDir: string;
  readonly url: string;
  /** What the bot sent on the simulated network (read from the volume: valid across restarts). */
  sends(botId: string): SimulatedSend[];
};

export const freePort = () => new Promise<number>((resolve, reject) => {
  const server = createServer();
  server.once('error', reject);
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as { port: number };
    server.close(() => resolve(port));
  });
});

/** Ready as Kubernetes would see it: /health/ready answers 200. */
const waitUntilReady = async (child: ChildProcess, url: string) => {
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(100)) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`bot pod exited (${child.exitCode ?? child.signalCode}) before it was ready`);
    const ready = await fetch(`${url}/health/ready`).then((response) => response.ok, () => false);
    if (ready) return;
  }
  throw new Error('bot pod not ready within 60 s');
};

export const startBotPod = async (
  processes: ProcessGroup, tenantId: string,
  options: { dataDir?: string; nodeFlags?: string[]; transport?: 'simulator' | 'baileys'; env?: Record<string, string> } = {},
): Promise<BotPodHandle> => {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'bot-pod-'));
  const port = await freePort();
  const launch = botPodLaunch({ tenantId, dataDir, transport: options.transport ?? 'simulator', port, env: options.env });
  // Like the local stack and Kubernetes: the pod's process gets no database URL.
  const child = await processes.start([...launch.nodeFlags, ...(options.nodeFlags ?? []), launch.script], { env: launch.env });
  const url = `http://127.0.0.1:${port}`;
  await waitUntilReady(child, url);
  return {
    child,
    dataDir,
    url,
    sends(botId) {
      return readJournal<SimulatedSend>(join(dataDir, 'simulator', `${botId}.sent.jsonl`));
    },
  };
};
