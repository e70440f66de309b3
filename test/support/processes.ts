// Real child processes for tests and benchmarks (the platform worker, a stand-in bot pod), stopped
// after the suite.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

export type StartOptions = {
  readonly readyText?: string;
  readonly onMessage?: (message: unknown) => void;
  /** Added to this process's environment; an undefined value removes the variable. */
  readonly env?: Record<string, string | undefined>;
};

export type ProcessGroup = {
  /**
   * Starts `node <args>` with `env` added to this process's environment, resolving once it printed
   * `readyText`; `onMessage` opens an IPC channel.
   */
  start(args: string[], options?: StartOptions): Promise<ChildProcess>;
  stopAll(): Promise<void>;
};

export const processGroup = (): ProcessGroup => {
  const children: ChildProcess[] = [];
  return {
    async start(args, { readyText, onMessage, env } = {}) {
      const child = spawn(process.execPath, args, {
        stdio: ['ignore', 'pipe', 'pipe', ...(onMessage ? ['ipc' as const] : [])],
        env: { ...process.env, ...env },
      });
      if (onMessage) child.on('message', onMessage);
      children.push(child);
      let output = '';
      child.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
      child.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
      if (readyText) {
        await new Promise<void>((resolve, reject) => {
          const check = () => { if (output.includes(readyText)) resolve(); };
          child.stdout!.on('data', check);
          child.once('exit', (code) => reject(new Error(`${args[0]} exited with ${code}: ${output}`)));
        });
      }
      return child;
    },
    async stopAll() {
      for (const child of children) {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          await once(child, 'exit');
        }
      }
    },
  };
};

/** This process's environment, for a child started by other means (e.g. the local pod runtime). */
export const inheritedEnvironment = (): NodeJS.ProcessEnv => ({ ...process.env });
