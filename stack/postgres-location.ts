// Where the local Postgres cluster and programs live. As root, the server runs as the `postgres` OS
// user, which cannot reach a clone in a private directory (under /root, or a `mktemp -d` folder,
// mode 0700). Rather than widen the clone's permissions, the cluster then lives in a directory of its
// own that this user can reach, linked from the stack directory, and the programs are run from where
// the links in .tools/bin point (the system's PostgreSQL).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, readlinkSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export const POSTGRES_OS_USER = 'postgres';
/** Clusters of stack directories the postgres user cannot reach, one folder each. */
const OUTSIDE_ROOT = '/var/lib/botinteligente';

export const runningAsRoot = () => process.getuid?.() === 0;

/** Postgres refuses to run as root: as root, run its programs as the unprivileged `postgres` user. */
export const asPostgresUser = (command: string, args: string[]): [string, string[]] =>
  runningAsRoot() ? ['setpriv', ['--reuid', POSTGRES_OS_USER, '--regid', POSTGRES_OS_USER, '--clear-groups', '--', command, ...args]] : [command, args];

const postgresUserCanEnter = (path: string) => {
  const [command, args] = asPostgresUser('test', ['-x', path]);
  return spawnSync(command, args).status === 0;
};

const linkTarget = (path: string): string | null => {
  try {
    return lstatSync(path).isSymbolicLink() ? readlinkSync(path) : null;
  } catch {
    return null;
  }
};

const reachable = new Map<string, string>();

/** The cluster's base directory (data and socket); created outside the stack directory when it must be. */
export const clusterBase = (stackDir: string): string => {
  const inStack = resolve(stackDir, 'pg');
  const known = reachable.get(inStack);
  if (known) return known;
  mkdirSync(resolve(stackDir), { recursive: true });
  let base = inStack;
  if (runningAsRoot() && !postgresUserCanEnter(resolve(stackDir))) {
    base = join(OUTSIDE_ROOT, createHash('sha256').update(realpathSync(resolve(stackDir))).digest('hex').slice(0, 16));
    if (existsSync(join(inStack, 'data', 'PG_VERSION')) && linkTarget(inStack) === null) {
      throw new Error(`${inStack} holds a cluster that the ${POSTGRES_OS_USER} OS user, which runs PostgreSQL when you are root, cannot reach: `
        + `run the stack as the user who created it, or let that OS user enter ${resolve(stackDir)} (e.g. chmod o+x on it and its parents).`);
    }
    if (linkTarget(inStack) !== base) {
      // No link: a new stack directory, or one deleted to reset the stack; a cluster left here is not its.
      rmSync(base, { recursive: true, force: true });
      rmSync(inStack, { recursive: true, force: true });
      mkdirSync(OUTSIDE_ROOT, { recursive: true });
      chmodSync(OUTSIDE_ROOT, 0o755); // entered by the postgres user; each cluster's own folder stays 0700
      mkdirSync(base, { mode: 0o700 });
      symlinkSync(base, inStack);
    }
  }
  reachable.set(inStack, base);
  return base;
};

/** A PostgreSQL program the server's OS user can run, or an error that says what to do. */
export const postgresProgram = (binDir: string, name: string): string => {
  const program = join(binDir, name);
  if (!runningAsRoot()) return program;
  const real = realpathSync(program);
  if (postgresUserCanEnter(dirname(real))) return real;
  throw new Error(`${real}: the ${POSTGRES_OS_USER} OS user, which runs PostgreSQL when you are root, cannot reach ${dirname(real)}. `
    + `Link system-wide PostgreSQL programs there (scripts/setup.sh does, from Debian's packages), `
    + `or clone the repository into a directory every user can enter (e.g. chmod o+x on ${dirname(real)} and its parents).`);
};
