// `npm start`'s one supervisor: every process it runs (Postgres, Temporal, S3, the API, the worker,
// the bot pods) is restarted when it dies, after the restart policy's backoff, until the stack stops.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { crashesInARow, DEFAULT_RESTART_POLICY, restartDelayMs, type RestartPolicy } from './restart-policy.ts';
import { isAlive, servicePid, stopService } from './processes.ts';

/** One run of a supervised process: `ended` resolves, saying how, when it is gone. */
export type Run = { readonly ended: Promise<string> };

export type SupervisorOptions = {
  readonly log: (message: string) => void;
  readonly signal: AbortSignal;
  readonly policy?: RestartPolicy;
};

const aborted = (signal: AbortSignal) => new Promise<string>((resolve) => {
  if (signal.aborted) resolve('stopping');
  signal.addEventListener('abort', () => resolve('stopping'), { once: true });
});

/** Starts `name` and starts it again each time it ends, until `signal` aborts. */
export const supervise = async (name: string, start: () => Promise<Run>, { log, signal, policy = DEFAULT_RESTART_POLICY }: SupervisorOptions) => {
  for (let crashes = 0; !signal.aborted; ) {
    const startedAt = Date.now();
    const how = await start().then((run) => run.ended, (error: unknown) => `failed to start: ${error instanceof Error ? error.message : String(error)}`);
    if (signal.aborted) return;
    crashes = crashesInARow(crashes, Date.now() - startedAt, policy);
    const delayMs = restartDelayMs(crashes, policy);
    log(`${name} ${how}; restarting in ${(delayMs / 1000).toFixed(1)} s (crash ${crashes} in a row)`);
    await sleep(delayMs, undefined, { signal }).catch(() => undefined);
  }
};

/** A `node [nodeFlags] <script>` child: a run ends when the child exits; SIGTERM on stop. */
export const nodeProcess = (
  script: string, options: { cwd: string; env: NodeJS.ProcessEnv; signal: AbortSignal; nodeFlags?: readonly string[] },
) => async (): Promise<Run> => {
  const child: ChildProcess = spawn(process.execPath, [...(options.nodeFlags ?? []), script], { cwd: options.cwd, stdio: 'inherit', env: options.env });
  const stop = () => child.kill('SIGTERM');
  options.signal.addEventListener('abort', stop, { once: true });
  const ended = once(child, 'exit').then(([code, exitSignal]) => {
    options.signal.removeEventListener('abort', stop);
    return `exited (${exitSignal ?? `code ${code}`})`;
  });
  return { ended };
};

const SERVICE_POLL_MS = 250;

/**
 * A detached stack service (its own process group and pid file): `start` brings it up (or finds it
 * running); a run ends when its process is gone.
 */
export const stackService = (stackDir: string, name: string, start: () => Promise<unknown>, signal: AbortSignal) => async (): Promise<Run> => {
  // What is left of a dead run's group (e.g. Postgres backends) would hold its port and locks.
  const previous = servicePid(stackDir, name);
  if (previous !== null && !isAlive(previous)) await stopService(stackDir, name, 'SIGKILL', 0);
  await start();
  const pid = servicePid(stackDir, name);
  // Running, but not from this stack directory: whoever started it looks after it.
  if (pid === null) return { ended: aborted(signal) };
  const ended = (async () => {
    while (!signal.aborted && isAlive(pid)) await sleep(SERVICE_POLL_MS);
    return signal.aborted ? 'stopping' : `(pid ${pid}) died`;
  })();
  return { ended };
};
