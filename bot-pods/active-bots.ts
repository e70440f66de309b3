// The bots a pod runs, asked of the platform through Temporal (workflow podActiveBots) at start and
// again every few seconds, so a bot added through the API runs without a restart: the pod holds no
// database credentials. The last answer is kept on the volume, so a pod also restarts while
// Temporal or the platform worker is away; with no answer yet, it keeps asking.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Client } from '@temporalio/client';
import type { Config } from '../core/config.ts';
import { POD_ACTIVE_BOTS_WORKFLOW, podActiveBotsWorkflowId, type PodActiveBotsInput } from '../core/temporal/pod-bots.ts';
import type * as workflows from '../workflows/index.ts';
import { writeFileDurably } from './durable-file.ts';
import { backoffDelayMs } from '../core/backoff.ts';

const cachedBots = z.array(z.uuid());

/** `client`: the pod's one connection (a new one per question cost a handshake every few seconds per pod). */
type ActiveBotsOptions = { tenantId: string; dataDir: string; client: () => Promise<Client>; taskQueue: Config['temporal']['taskQueue']; logger: Logger };

const askPlatform = async (options: ActiveBotsOptions): Promise<string[]> =>
  (await options.client()).workflow.execute<typeof workflows.podActiveBots>(POD_ACTIVE_BOTS_WORKFLOW, {
    workflowId: podActiveBotsWorkflowId(options.tenantId),
    taskQueue: options.taskQueue,
    args: [{ tenantId: options.tenantId } satisfies PodActiveBotsInput],
    workflowExecutionTimeout: '15 seconds',
    workflowIdConflictPolicy: 'USE_EXISTING',
  });

const readCache = async (path: string): Promise<string[] | null> => {
  const text = await readFile(path, 'utf8').catch(() => null);
  if (text === null) return null;
  try {
    const parsed = cachedBots.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null; // not JSON: as if nothing were cached, the pod asks until the platform answers
  }
};

/** How often a running pod asks again. */
export const ACTIVE_BOTS_REFRESH_MS = 3_000;


const cacheFileOf = (dataDir: string) => join(dataDir, 'active-bots.json');

/** One question to the platform; the answer is kept on the volume. Throws when the platform does not answer. */
export const askActiveBots = async (options: ActiveBotsOptions): Promise<string[]> => {
  const bots = await askPlatform(options);
  await mkdir(options.dataDir, { recursive: true });
  await writeFileDurably(cacheFileOf(options.dataDir), JSON.stringify(bots));
  return bots;
};

/** The bots to run at start: the platform's answer, else the cached one, else ask until it answers. */
export const loadActiveBots = async (options: ActiveBotsOptions): Promise<string[]> => {
  const cacheFile = cacheFileOf(options.dataDir);
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await askActiveBots(options);
    } catch (error) {
      const cached = await readCache(cacheFile);
      if (cached) {
        options.logger.warn({ err: error, bots: cached.length }, 'the platform did not say which bots to run: running those cached on the volume');
        return cached;
      }
      options.logger.warn({ err: error, attempt }, 'the platform did not say which bots to run (none cached yet): asking again');
      await sleep(backoffDelayMs(attempt, 500, 10_000));
    }
  }
};
