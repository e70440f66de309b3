// Files that survive a crash at any moment. New content goes to a temp file in the same
// directory, is fsynced, renamed over the old name, and the directory is fsynced so the rename is
// on disk too: a reader finds the old content or the new one, never a torn file.
import { randomUUID } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { open, readdir, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';

const TEMP_SUFFIX = '.tmp';

export const syncDirectory = async (directory: string): Promise<void> => {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
};

export const syncDirectorySync = (directory: string): void => {
  const fd = openSync(directory, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
};

/** The same, without yielding: no other write of the process can land between its steps. */
export const writeFileDurablySync = (path: string, data: string | Uint8Array): void => {
  const temp = `${path}.${randomUUID()}${TEMP_SUFFIX}`;
  try {
    const fd = openSync(temp, 'w', 0o600);
    try {
      writeFileSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
  syncDirectorySync(dirname(path));
};

export const writeFileDurably = async (path: string, data: string | Uint8Array): Promise<void> => {
  const temp = `${path}.${randomUUID()}${TEMP_SUFFIX}`;
  const handle = await open(temp, 'w', 0o600);
  try {
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    // A full volume must not also keep the half-written copy that filled it.
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await syncDirectory(dirname(path));
};

export const removeFileDurably = async (path: string): Promise<void> => {
  try {
    await unlink(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return;
  }
  await syncDirectory(dirname(path));
};

/** Temp files of writes a crash interrupted: never renamed, so never part of the state. */
export const removeInterruptedWrites = async (directory: string): Promise<void> => {
  const leftovers = (await readdir(directory)).filter((name) => name.endsWith(TEMP_SUFFIX));
  await Promise.all(leftovers.map((name) => unlink(join(directory, name))));
};

/** Runs writes of one key one after another, so an older write can never land after a newer one. */
export const createKeyedQueue = () => {
  const tails = new Map<string, Promise<unknown>>();
  return <T>(key: string, task: () => Promise<T>): Promise<T> => {
    const run = (tails.get(key) ?? Promise.resolve()).then(task, task);
    const tail = run.catch(() => undefined);
    tails.set(key, tail);
    void tail.then(() => { if (tails.get(key) === tail) tails.delete(key); });
    return run;
  };
};

/**
 * Lets many writes run together, or one exclusive task (a snapshot) with no write in flight: the
 * files it reads then form one consistent state.
 */
export const createWriteGate = () => {
  let active = 0;
  let exclusive: Promise<unknown> = Promise.resolve();
  let drained: (() => void) | null = null;
  return {
    async write<T>(task: () => Promise<T>): Promise<T> {
      await exclusive;
      active += 1;
      try {
        return await task();
      } finally {
        active -= 1;
        if (active === 0) drained?.();
      }
    },
    exclusive<T>(task: () => Promise<T>): Promise<T> {
      const run = exclusive.then(async () => {
        if (active > 0) await new Promise<void>((resolve) => { drained = resolve; });
        drained = null;
        return task();
      });
      exclusive = run.catch(() => undefined);
      return run;
    },
  };
};

export type WriteGate = ReturnType<typeof createWriteGate>;
