// CPU time the kernel has charged to the processes that serve a benchmark, the stack's servers
// included: what a message costs in each of them, whatever else the shared cores were doing.
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's CPU fields (USER_HZ: 100 on Linux, whatever the kernel's HZ). */
const TICKS_PER_SECOND = 100;

/** The fields of /proc/<pid>/stat after the command name, which may itself hold spaces and parentheses. */
const statFields = (pid: number | string): string[] | null => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  } catch {
    return null; // the process ended between the listing and the read
  }
};
// Indexes in statFields: ppid 1, utime 11, stime 12, cutime 13, cstime 14 (proc(5) fields 4, 14-17).
const PPID = 1;
const ticks = (fields: string[], ...indexes: number[]) => indexes.reduce((sum, index) => sum + Number(fields[index]), 0);

/** CPU seconds one process has used so far, all its threads. */
export const processCpuSeconds = (pid: number): number => {
  const fields = statFields(pid);
  if (!fields) throw new Error(`process ${pid} is not running`);
  return ticks(fields, 11, 12) / TICKS_PER_SECOND;
};

/**
 * CPU seconds of a process and all its descendants so far, with the children they waited for once
 * ended. By parentage, not process group: a Postgres backend leads a session of its own, and one
 * whose connection closed is charged to the postmaster that reaped it.
 */
export const processTreeCpuSeconds = (rootPid: number): number => {
  const children = new Map<number, number[]>();
  const own = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(entry);
    if (!fields) continue;
    const pid = Number(entry);
    own.set(pid, ticks(fields, 11, 12, 13, 14));
    const siblings = children.get(Number(fields[PPID]));
    if (siblings) siblings.push(pid);
    else children.set(Number(fields[PPID]), [pid]);
  }
  let total = 0;
  for (const pending = [rootPid]; pending.length > 0; ) {
    const pid = pending.pop()!;
    total += own.get(pid) ?? 0;
    pending.push(...(children.get(pid) ?? []));
  }
  return total / TICKS_PER_SECOND;
};

/** Named CPU counters, in seconds; each is read at the start and at the end of a measured run. */
export type CpuSources = Readonly<Record<string, () => number>>;

/** What a run cost: CPU ms per message of each source and in all, and the cores they kept busy. */
export type CpuPerMessage = { readonly ms: Readonly<Record<string, number>>; readonly totalMs: number; readonly coresBusy: number };

/** Starts a measurement now; `perMessage(n)` ends it, dividing what each source used by `n` messages. */
export const startCpuMeasure = (sources: CpuSources) => {
  const read = () => Object.fromEntries(Object.entries(sources).map(([name, seconds]) => [name, seconds()]));
  const before = read();
  const startedAt = performance.now();
  return {
    perMessage(messages: number): CpuPerMessage {
      const after = read();
      const wallSeconds = (performance.now() - startedAt) / 1000;
      const used = Object.fromEntries(Object.keys(sources).map((name) => [name, after[name]! - before[name]!]));
      const total = Object.values(used).reduce((sum, seconds) => sum + seconds, 0);
      const round = (value: number, digits: number) => Number(value.toFixed(digits));
      return {
        ms: Object.fromEntries(Object.entries(used).map(([name, seconds]) => [name, round((seconds * 1000) / messages, 2)])),
        totalMs: round((total * 1000) / messages, 2),
        coresBusy: round(total / wallSeconds, 2),
      };
    },
  };
};
