// One tenant's costly scoring beside another's: tenant B's scoring latency (p50/p99) through the
// scoring pool alone, then while tenant A floods it with long messages against accepted but costly
// rules; and the worst case of the stored-text check (a 99,000-character name and two NULs).
import { setTimeout as sleep } from 'node:timers/promises';
import { createScoringPool } from '../activities/scoring/pool.ts';
import { nameText } from '../api/routes/schemas.ts';
import type { ScoringRule } from '../core/scoring/rules.ts';
import { hostileRules, hostileText } from '../test/support/hostile-scoring.ts';
import { benchRules, SAMPLE_TEXTS } from './scoring.ts';

const percentile = (sorted: number[], p: number) => Number(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!.toFixed(2));

const calmLatencies = async (pool: ReturnType<typeof createScoringPool>, rules: ScoringRule[], count: number) => {
  const latencies: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const started = performance.now();
    await pool.score('calm', rules, SAMPLE_TEXTS[i % SAMPLE_TEXTS.length]!);
    latencies.push(performance.now() - started);
    await sleep(5);
  }
  latencies.sort((a, b) => a - b);
  return { p50Ms: percentile(latencies, 0.5), p99Ms: percentile(latencies, 0.99) };
};

export const runScoringIsolationBench = async (messages = 400) => {
  const pool = createScoringPool({ threads: 2, maxChars: 4_096, timeBudgetMs: 250 });
  try {
    const rules = benchRules();
    await calmLatencies(pool, rules, 50); // warm-up: threads started, rules compiled
    const alone = await calmLatencies(pool, rules, messages);
    let flooding = true;
    let hostileScored = 0;
    let hostileTimedOut = 0;
    const flood = (async () => {
      for (let i = 0; flooding; i += 1) {
        const batch = await Promise.all(Array.from({ length: 4 }, (_, j) => pool.score('hostile', hostileRules(), hostileText(30_000, i * 4 + j + 1))));
        hostileScored += batch.length;
        hostileTimedOut += batch.filter((score) => score.timedOut).length;
      }
    })();
    const beside = await calmLatencies(pool, rules, messages);
    flooding = false;
    await flood;
    const hostileName = `${'a'.repeat(99_000)}\u0000\u0000`;
    const started = performance.now();
    nameText(200).safeParse(hostileName);
    return {
      calmAlone: alone, calmBesideHostile: beside, hostileMessages: hostileScored, hostileTimedOut,
      nameCheckWorstCaseMs: Number((performance.now() - started).toFixed(2)),
    };
  } finally {
    await pool.close();
  }
};
