// pg_dump and pg_restore as child processes. The password goes in the child's environment, never
// on its command line (where `ps` would show it).
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { PlatformError } from '../../core/errors.ts';

export class PgToolError extends PlatformError {
  constructor(message: string) {
    super('PG_TOOL', message);
  }
}

const connectionOf = (url: string) => {
  const parsed = new URL(url);
  const password = decodeURIComponent(parsed.password);
  parsed.password = '';
  return { dbname: parsed.toString(), env: { PGPASSWORD: password, PGCONNECT_TIMEOUT: '10', PGAPPNAME: 'botinteligente-backup' } };
};

type PgTool = {
  readonly child: ChildProcessByStdio<Writable | null, Readable | null, Readable>;
  /** Resolves on exit status 0; otherwise rejects with the tool's last error lines. */
  readonly exited: Promise<void>;
};

export const runPgTool = (
  binDir: string, tool: 'pg_dump' | 'pg_restore', args: readonly string[], url: string, stdio: { stdin: boolean; stdout: boolean },
): PgTool => {
  const { dbname, env } = connectionOf(url);
  const child = spawn(resolve(binDir, tool), [...args, `--dbname=${dbname}`], {
    env, stdio: [stdio.stdin ? 'pipe' : 'ignore', stdio.stdout ? 'pipe' : 'ignore', 'pipe'],
  }) as ChildProcessByStdio<Writable | null, Readable | null, Readable>;
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-4000); });
  const exited = new Promise<void>((resolve, reject) => {
    child.on('error', (error) => reject(new PgToolError(`${tool} could not start: ${error.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new PgToolError(`${tool} failed (${signal ?? `exit ${code}`}): ${stderr.trim().split('\n').slice(-5).join(' | ') || 'no message'}`));
    });
  });
  return { child, exited };
};
