// Fills Node's compile cache for bot pods, with the flags they run with (core/bot-pod-process.ts):
// the entry and its static imports, then the modules a pod loads later (Baileys, snapshots, media).
// `node bot-pods/warm-compile-cache.ts` in the image build; the local pod runtime calls it before its first pod.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { BOT_POD_COMPILE_CACHE_DIR, BOT_POD_NODE_FLAGS, BOT_POD_SCRIPT, botPodProcessEnvironment } from '../core/bot-pod-process.ts';

const LOADED_LATER = ['./bot-pods/baileys-transport.ts', './bot-pods/auth-store.ts', './bot-pods/session-snapshot.ts', './bot-pods/media.ts', './core/object-store.ts'];
const CODE_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** `node <pod flags> <args>` with only the cache variables: the entry stops at its missing tenant (exit 78), after every static import has loaded. */
const run = async (args: string[], compileCacheDir: string) => {
  const child = spawn(process.execPath, [...BOT_POD_NODE_FLAGS, ...args], { cwd: CODE_ROOT, env: botPodProcessEnvironment(compileCacheDir), stdio: ['ignore', 'ignore', 'pipe'] });
  let errors = '';
  child.stderr.on('data', (chunk: Buffer) => { errors += chunk.toString(); });
  const [code] = await once(child, 'exit') as [number | null];
  return { code, errors };
};

export const warmBotPodCompileCache = async (compileCacheDir: string = BOT_POD_COMPILE_CACHE_DIR): Promise<void> => {
  const [entry, later] = await Promise.all([
    run([BOT_POD_SCRIPT], compileCacheDir),
    run(['--input-type=module', '-e', `for (const module of ${JSON.stringify(LOADED_LATER)}) await import(module);`], compileCacheDir),
  ]);
  if (entry.code !== 78) throw new Error(`warming the bot pod's compile cache: its entry exited with ${entry.code}: ${entry.errors}`);
  if (later.code !== 0) throw new Error(`warming the bot pod's compile cache: its later modules failed to load: ${later.errors}`);
};

if (import.meta.main) await warmBotPodCompileCache();
