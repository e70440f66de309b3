// `npm start`'s supervisor: the restart backoff and its reset after a stable run, a crashing child
// restarted, and this worktree's own Temporal and Postgres brought back after being killed.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { loadConfig } from '../core/config.ts';
import { connectTemporalClient } from '../core/temporal/client.ts';
import { isHealthy, servicePid } from '../stack/processes.ts';
import { startPostgres } from '../stack/postgres.ts';
import { crashesInARow, DEFAULT_RESTART_POLICY, restartDelayMs } from '../stack/restart-policy.ts';
import { nodeProcess, stackService, supervise } from '../stack/supervisor.ts';
import { startTemporal } from '../stack/temporal.ts';

const config = loadConfig();
const policy = DEFAULT_RESTART_POLICY;
const highest = () => 0.999_999;

describe('restart policy', () => {
  it('backs off exponentially over crashes in a row, up to the ceiling, with jitter', () => {
    let crashes = 0;
    const ceilings = [];
    for (let crash = 0; crash < 7; crash += 1) {
      crashes = crashesInARow(crashes, 500, policy);
      ceilings.push(Math.round(restartDelayMs(crashes, policy, highest) / 1000));
    }
    expect(ceilings).toEqual([1, 2, 4, 8, 16, 30, 30]);
    expect(restartDelayMs(3, policy, () => 0)).toBe(0);
    expect(new Set(Array.from({ length: 20 }, () => restartDelayMs(3, policy))).size).toBeGreaterThan(1);
  });

  it('starts again from the first step after a run that stayed up for the stable period', () => {
    let crashes = 0;
    for (let crash = 0; crash < 6; crash += 1) crashes = crashesInARow(crashes, 1_000, policy);
    expect(restartDelayMs(crashes, policy, highest)).toBeGreaterThan(29_000);
    crashes = crashesInARow(crashes, policy.stableMs, policy);
    expect(crashes).toBe(1);
    expect(restartDelayMs(crashes, policy, highest)).toBeLessThan(policy.baseMs);
  });
});

describe('supervisor', () => {
  it('restarts a child process each time it dies, and stops restarting when told to stop', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'supervised-'));
    const script = join(dir, 'crash.mjs');
    const runs = join(dir, 'runs');
    writeFileSync(runs, '');
    writeFileSync(script, `import { appendFileSync } from 'node:fs'; appendFileSync(${JSON.stringify(runs)}, 'run\\n'); process.exit(3);`);
    const stopping = new AbortController();
    const messages: string[] = [];
    const supervision = supervise('crasher', nodeProcess(script, { cwd: dir, env: {}, signal: stopping.signal }), {
      log: (message) => messages.push(message), signal: stopping.signal, policy: { baseMs: 20, maxMs: 50, stableMs: 60_000 },
    });
    for (const deadline = Date.now() + 10_000; readFileSync(runs, 'utf8').split('\n').length < 5 && Date.now() < deadline; ) await sleep(20);
    stopping.abort();
    await supervision;
    expect(readFileSync(runs, 'utf8').split('\n').length).toBeGreaterThanOrEqual(5);
    expect(messages[0]).toMatch(/^crasher exited \(code 3\); restarting in \d+\.\d s \(crash 1 in a row\)$/);
    rmSync(dir, { recursive: true });
  }, 20_000);

  const killAndSeeBack = async (name: 'temporal' | 'postgres', start: () => Promise<unknown>, healthy: () => Promise<unknown>) => {
    const stopping = new AbortController();
    const messages: string[] = [];
    const firstRun = Promise.withResolvers<void>();
    const supervision = supervise(name, stackService(config.stack.dir, name, async () => {
      await start();
      firstRun.resolve();
    }, stopping.signal), {
      log: (message) => messages.push(message), signal: stopping.signal, policy: { baseMs: 200, maxMs: 1_000, stableMs: 60_000 },
    });
    try {
      await firstRun.promise;
      const pid = servicePid(config.stack.dir, name);
      expect(pid).not.toBeNull();
      process.kill(-pid!, 'SIGKILL');
      const killedAt = Date.now();
      await sleep(300);
      expect(await isHealthy(healthy)).toBe(false);
      for (const deadline = Date.now() + 60_000; !await isHealthy(healthy) && Date.now() < deadline; ) await sleep(100);
      const backAfterMs = Date.now() - killedAt;
      process.stderr.write(`[supervisor] ${name} killed and answering again after ${backAfterMs} ms\n`);
      expect(await isHealthy(healthy)).toBe(true);
      expect(servicePid(config.stack.dir, name)).not.toBe(pid);
      expect(messages).toEqual([expect.stringMatching(new RegExp(`^${name} \\(pid ${pid}\\) died; restarting in`))]);
    } finally {
      stopping.abort();
      await supervision;
    }
  };

  it('brings Temporal back after its process group is killed', async () => {
    await killAndSeeBack('temporal', () => startTemporal(config), async () => {
      const { connection } = await connectTemporalClient(config.temporal, { connectTimeoutMs: 1_000 });
      await connection.workflowService.getSystemInfo({});
      await connection.close();
    });
  }, 120_000);

  it('brings Postgres back after its process group is killed', async () => {
    await killAndSeeBack('postgres', () => startPostgres(config), async () => {
      const client = new pg.Client({ connectionString: config.database.appUrl, connectionTimeoutMillis: 1_000 });
      client.on('error', () => undefined);
      await client.connect();
      await client.end();
    });
  }, 120_000);
});
