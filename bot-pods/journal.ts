// An append-only JSON-lines file on the volume: each append is written and fsynced before it
// resolves, so what was acknowledged survives a crash. A torn last line (a crash mid-append) is
// dropped on load: its append never resolved, so nobody relied on it.
import { mkdirSync, openSync, readFileSync, existsSync, fsyncSync, writeSync, closeSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileDurably } from './durable-file.ts';

export type Journal<T> = {
  /** Every complete entry, oldest first, as of opening. */
  readonly entries: readonly T[];
  append(entry: T): void;
  /** Replaces the whole file (durably) with `entries`: compaction. */
  rewrite(entries: readonly T[]): Promise<void>;
  close(): void;
};

export const openJournal = <T>(path: string): Journal<T> => {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const entries: T[] = [];
  if (existsSync(path)) {
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      if (line === '') continue;
      try {
        entries.push(JSON.parse(line) as T);
      } catch {
        break; // the torn tail of an interrupted append
      }
    }
  }
  let fd = openSync(path, 'a', 0o600);
  return {
    entries,
    append(entry) {
      // Synchronous on purpose: appends are small, and ordering plus durability before the caller
      // goes on is the point.
      writeSync(fd, `${JSON.stringify(entry)}\n`);
      fsyncSync(fd);
    },
    async rewrite(kept) {
      await writeFileDurably(path, kept.map((entry) => `${JSON.stringify(entry)}\n`).join(''));
      closeSync(fd);
      fd = openSync(path, 'a', 0o600);
    },
    close() {
      closeSync(fd);
    },
  };
};
