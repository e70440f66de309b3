// How a bot pod's Node process starts, wherever it runs: the local pod runtime and the tests
// (stack/local-pod-runtime.ts), and the Kubernetes StatefulSet (core/bot-tenant/stateful-set.ts).
// Each setting was measured beside the process without it (docs/bot-pods.md#memory).

export const BOT_POD_SCRIPT = 'bot-pods/pod.ts';

/**
 * Node's compile cache, relative to the code's root (WORKDIR /app in the image, where the build fills
 * it; locally the local pod runtime fills it). A warm cache spares the pod the TypeScript stripper
 * (WebAssembly, ~18 MB resident for the process's life) and the parse of every module.
 */
export const BOT_POD_COMPILE_CACHE_DIR = 'node_modules/.cache/bot-pod-compile-cache';

/** Flags before the script. The cache keys on V8's flags, so a cache is warmed with these same ones. */
export const BOT_POD_NODE_FLAGS: readonly string[] = [
  // One V8 platform worker instead of one per core: a pod waits on I/O, and each thread keeps a stack and a malloc arena.
  '--v8-pool-size=1',
  // V8 favours size over speed, and the young generation stays small: after a burst, idle memory goes back to its floor.
  '--optimize-for-size',
  '--max-semi-space-size=1',
];

/** Environment of a bot pod's process, with `compileCacheDir` the absolute or working-directory-relative cache. */
export const botPodProcessEnvironment = (compileCacheDir: string = BOT_POD_COMPILE_CACHE_DIR): Record<string, string> => ({
  // glibc keeps a malloc arena per thread (up to 8 per core); the Temporal core's threads leave each partly used.
  MALLOC_ARENA_MAX: '2',
  NODE_COMPILE_CACHE: compileCacheDir,
});
