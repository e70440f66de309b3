// Detached service processes with pid files and log files, stopped as whole process groups.
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export type ServiceProcess = { readonly name: string; readonly pid: number };

const isZombie = (pid: number): boolean => {
  try {
    // /proc/<pid>/stat: "pid (comm) state ..."; a zombie has exited and only waits to be reaped.
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').startsWith('Z');
  } catch {
    return false;
  }
};

export const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return !isZombie(pid);
};

const pidFile = (stackDir: string, name: string) => join(stackDir, 'run', `${name}.pid`);
export const logFile = (stackDir: string, name: string) => join(stackDir, 'logs', `${name}.log`);

/** The pid of a service this stack directory started, or null when it has none running. */
export const servicePid = (stackDir: string, name: string): number | null => {
  try {
    const pid = Number(readFileSync(pidFile(stackDir, name), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
};

export const startService = (stackDir: string, name: string, command: string, args: readonly string[]): ServiceProcess => {
  mkdirSync(join(stackDir, 'run'), { recursive: true });
  mkdirSync(join(stackDir, 'logs'), { recursive: true });
  const log = openSync(logFile(stackDir, name), 'a');
  const child = spawn(command, args, { detached: true, stdio: ['ignore', log, log] });
  if (child.pid === undefined) throw new Error(`${name}: could not start ${command}`);
  child.unref();
  writeFileSync(pidFile(stackDir, name), `${child.pid}\n`);
  return { name, pid: child.pid };
};

/** Stops a service's whole process group: SIGTERM (or the given signal), then SIGKILL after a grace period. */
export const stopService = async (stackDir: string, name: string, signal: NodeJS.Signals = 'SIGTERM', graceMs = 20_000) => {
  const file = pidFile(stackDir, name);
  const pid = servicePid(stackDir, name);
  if (pid === null) return;
  const signalGroup = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      // already gone
    }
  };
  signalGroup(signal);
  for (const deadline = Date.now() + graceMs; isAlive(pid) && Date.now() < deadline; ) await sleep(100);
  signalGroup('SIGKILL');
  for (const deadline = Date.now() + 5_000; isAlive(pid) && Date.now() < deadline; ) await sleep(50);
  rmSync(file, { force: true });
};

export const lastLogLines = (stackDir: string, name: string, count = 15): string => {
  try {
    return readFileSync(logFile(stackDir, name), 'utf8').trimEnd().split('\n').slice(-count).join('\n');
  } catch {
    return '(no log)';
  }
};

/** Polls `check` until it succeeds or the timeout passes; the error names the service and shows its log. */
export const waitUntilHealthy = async (stackDir: string, name: string, check: () => Promise<unknown>, timeoutMs = 60_000) => {
  let lastError: unknown;
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; ) {
    try {
      return await check();
    } catch (error) {
      lastError = error;
      await sleep(250);
    }
  }
  throw new Error(
    `${name} did not become healthy within ${timeoutMs / 1000}s: ${String(lastError)}\n--- last lines of ${logFile(stackDir, name)} ---\n${lastLogLines(stackDir, name)}`,
    { cause: lastError },
  );
};

export const isHealthy = async (check: () => Promise<unknown>): Promise<boolean> => {
  try {
    await check();
    return true;
  } catch {
    return false;
  }
};

/**
 * Whether a service already runs, before starting one: asked three times, half a second apart, so
 * a service slow to answer on busy cores is reused rather than started a second time beside itself.
 */
export const isRunning = async (check: () => Promise<unknown>): Promise<boolean> => {
  for (let attempt = 1; ; attempt += 1) {
    if (await isHealthy(check)) return true;
    if (attempt === 3) return false;
    await sleep(500);
  }
};
