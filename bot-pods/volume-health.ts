// Whether the pod's volume persists writes: the journals report every write's outcome here. After
// a failure the pod is not ready (and refuses inbound messages, whose append fails), until a write
// succeeds again: the next append, or a probe written every `probeIntervalMs` while it is down,
// so a volume that got space back turns ready with no traffic.
import { closeSync, fsyncSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { JournalWriteError } from './journal.ts';

/** About one outbox record: a volume that takes it can take the next message. */
const PROBE_BYTES = 4096;

export type VolumeState = { readonly writable: true } | { readonly writable: false; readonly reason: string; readonly since: string };

export type VolumeHealth = {
  /** Pass as the journals' `onWrite`. */
  observe(error: JournalWriteError | null): void;
  state(): VolumeState;
  close(): void;
};

export const createVolumeHealth = (dataDir: string, options: {
  probeIntervalMs?: number; onChange?: (state: VolumeState) => void;
} = {}): VolumeHealth => {
  let current: VolumeState = { writable: true };
  let probing: NodeJS.Timeout | null = null;
  const probePath = join(dataDir, '.volume-probe');
  const set = (next: VolumeState) => {
    if (next.writable === current.writable) return;
    current = next;
    options.onChange?.(next);
    if (next.writable && probing) {
      clearInterval(probing);
      probing = null;
    }
    if (!next.writable && !probing) {
      probing = setInterval(probe, options.probeIntervalMs ?? 1_000);
      probing.unref();
    }
  };
  const probe = () => {
    let fd: number | null = null;
    try {
      fd = openSync(probePath, 'w', 0o600);
      // A short write is how a full disk answers first.
      if (writeSync(fd, Buffer.alloc(PROBE_BYTES)) < PROBE_BYTES) return;
      fsyncSync(fd);
      set({ writable: true });
    } catch {
      // Still down.
    } finally {
      if (fd !== null) closeSync(fd);
      try {
        unlinkSync(probePath);
      } catch {
        // Not created.
      }
    }
  };
  return {
    observe(error) {
      if (!error) return set({ writable: true });
      if (current.writable) set({ writable: false, reason: error.message, since: new Date().toISOString() });
    },
    state: () => current,
    close() {
      if (probing) clearInterval(probing);
    },
  };
};
