// The benchmark's CPU accounting: what a process, and a process with its descendants and the children
// they reaped, used according to the kernel; and the per-message figures a measured run reports.
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from '@jest/globals';
import { processCpuSeconds, processTreeCpuSeconds, startCpuMeasure } from '../bench/process-cpu.ts';

/** Burns `ms` of its own CPU, then exits (or, with `stay`, waits to be killed). */
const BURN = (ms: number, stay = false) =>
  `const used = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
   while (used() < ${ms}) {}
   process.stdout.write('burnt\\n');
   ${stay ? 'setInterval(() => {}, 1000);' : ''}`;

const started: ChildProcess[] = [];
/** Grandchildren in sessions of their own, which killing their parent leaves running. */
const detached: number[] = [];
const outputs = new Map<ChildProcess, string>();
const startNode = (script: string, detached = false) => {
  const child = spawn(process.execPath, ['-e', script], { detached, stdio: ['ignore', 'pipe', 'inherit'] });
  started.push(child);
  outputs.set(child, '');
  child.stdout!.on('data', (chunk: Buffer) => outputs.set(child, outputs.get(child) + chunk.toString()));
  return child;
};
/** Waits until `child` has printed `text`. */
const line = async (child: ChildProcess, text: string) => {
  while (!outputs.get(child)!.includes(text)) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the process ended without printing "${text}"`);
    await sleep(20);
  }
};
afterEach(() => {
  for (const child of started.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const pid of detached.splice(0)) process.kill(pid, 'SIGKILL');
});

describe('bench: CPU charged to processes', () => {
  it('reads what one process used, all its threads, from the kernel', async () => {
    const child = startNode(BURN(400, true));
    await line(child, 'burnt');
    expect(processCpuSeconds(child.pid!)).toBeGreaterThanOrEqual(0.35);
    expect(processCpuSeconds(process.pid)).toBeGreaterThan(0);
    expect(() => processCpuSeconds(2 ** 22 + 1)).toThrow(/not running/);
  });

  it('charges a process with its descendants, in sessions of their own too, and the children they reaped, not its neighbours', async () => {
    // Like a postmaster: one child in a session of its own that stays (a backend), one run to its end
    // and reaped (a closed connection), whose CPU is by then only in the parent's count of reaped children.
    const root = startNode(`
      const { spawn, spawnSync } = require('node:child_process');
      process.stdout.write('started\\n');
      setTimeout(() => {
        const backend = spawn(process.execPath, ['-e', ${JSON.stringify(BURN(400, true))}], { detached: true, stdio: ['ignore', 'inherit', 'inherit'] });
        process.stdout.write('backend ' + backend.pid + '\\n');
        spawnSync(process.execPath, ['-e', ${JSON.stringify(BURN(300))}], { stdio: 'ignore' });
        process.stdout.write('reaped\\n');
        setInterval(() => {}, 1000);
      }, 200);`, true);
    const neighbour = startNode(BURN(300, true), true);
    await line(root, 'started');
    const before = processTreeCpuSeconds(root.pid!);
    await Promise.all([line(root, 'reaped'), line(root, 'burnt'), line(neighbour, 'burnt')]);
    detached.push(Number(/backend (\d+)/.exec(outputs.get(root)!)![1]));
    const after = processTreeCpuSeconds(root.pid!);
    // 0.7 s burnt in the tree (the kernel counts in ticks of 10 ms, sampled, so a little less may show).
    expect(after - before).toBeGreaterThanOrEqual(0.6);
    // The neighbour burnt 0.3 s outside the tree: none of it is the root's.
    expect(after - before).toBeLessThan(0.7 + 0.25);
    expect(processTreeCpuSeconds(neighbour.pid!)).toBeGreaterThanOrEqual(0.25);
  });

  it('reports each source\'s CPU per message, their total, and the cores they kept busy', () => {
    const readings = { worker: [10, 12], server: [100, 101] };
    const sources = Object.fromEntries(Object.entries(readings).map(([name, values]) => [name, () => values.shift()!]));
    const measured = startCpuMeasure(sources).perMessage(500);
    expect(measured.ms).toEqual({ worker: 4, server: 2 });
    expect(measured.totalMs).toBe(6);
    expect(measured.coresBusy).toBeGreaterThan(0);
  });
});
