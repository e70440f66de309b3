// A real, small filesystem (tmpfs) that a test fills to its last byte and frees again: the pod's
// volume running out of space, with the kernel's own short writes and ENOSPC.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmdirSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const FILLER = '.filler';

export const mountSmallVolume = (bytes: number): string => {
  if (process.getuid?.() !== 0) {
    throw new Error('this test mounts a tmpfs to fill a real filesystem to its last byte, which needs root: run it as root (CI and the dev machine do)');
  }
  const dir = mkdtempSync(join(tmpdir(), 'small-volume-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0700`, 'tmpfs', dir]);
  return dir;
};

export const unmountSmallVolume = (dir: string) => {
  // Lazy: a failed test may still hold a file open on it.
  execFileSync('umount', ['--lazy', dir]);
  rmdirSync(dir);
};

/** Writes a filler file until the filesystem refuses even one more byte; returns its size. */
export const fillVolume = (dir: string): number => {
  const fd = openSync(join(dir, FILLER), 'a', 0o600);
  let size = 0;
  try {
    for (const chunk of [Buffer.alloc(64 * 1024), Buffer.alloc(1)]) {
      try {
        for (;;) size += writeSync(fd, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      }
    }
  } finally {
    closeSync(fd);
  }
  return size;
};

export const freeVolume = (dir: string) => rmSync(join(dir, FILLER), { force: true });
