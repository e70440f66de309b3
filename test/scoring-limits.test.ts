// What scoring may cost: rules are bounded when saved (repetition counts, compiled program size),
// messages when scored (the scored length, a time budget), and scoring runs off the main thread.
import { afterAll, describe, expect, it } from '@jest/globals';
import { createScoringPool } from '../activities/scoring/pool.ts';
import { scoreTask } from '../activities/scoring/score-task.ts';
import { createRuleCache, type RuleCache } from '../core/scoring/rule-cache.ts';
import { largestRepeatCount } from '../core/scoring/repeat-counts.ts';
import { RULE_LIMITS, ScoringRuleError, validateScoringRules, type ScoringRule } from '../core/scoring/rules.ts';
import { hostileRules, hostileText } from './support/hostile-scoring.ts';

const regex = (pattern: string): ScoringRule => ({ kind: 'regex', pattern, weight: 1, tag: null, active: true });
const refusal = (rules: unknown) => {
  try {
    validateScoringRules(rules);
  } catch (error) {
    if (error instanceof ScoringRuleError) return { message: error.message, ruleIndex: error.ruleIndex };
    throw error;
  }
  return null;
};

describe('scoring rules, when saved', () => {
  it('refuse a repetition count above the limit before compiling it, naming the rule', () => {
    // Fifty `.{0,1000}` and an x: accepted before, 185 ms to compile and 13 s on a 2,000-character message.
    // The repetition count's message (not the compiled size's) shows it was refused before compiling.
    expect(refusal([regex('price'), regex(`${'.{0,1000}'.repeat(50)}x`)])).toEqual({
      message: expect.stringContaining('repeats 1000 times; a repetition count may be at most 100'), ruleIndex: 1,
    });
    expect(refusal([regex('a{101,}')])?.message).toContain('repeats 101 times');
  });

  it('refuse a rule whose program is too large, and a rule set whose programs are too large together', () => {
    expect(refusal([regex(`${'.{0,100}'.repeat(6)}x`)])).toEqual({ message: expect.stringContaining('compiles to 1203 instructions; at most 1000'), ruleIndex: 0 });
    const refused = refusal(Array.from({ length: 30 }, (_, i) => regex(`${'.{0,100}'.repeat(4)}x${i}`)));
    expect(refused?.message).toContain(`may total at most ${RULE_LIMITS.totalProgramSize}`);
    expect(refused?.ruleIndex).toBe(24);
    expect(validateScoringRules(hostileRules())).toHaveLength(20);
  });

  it('read counts only where they are counts', () => {
    expect(largestRepeatCount('\\p{Greek}{3}[{5000}]\\Q{7000}\\E\\x{1000}a{2,40}')).toBe(40);
    expect(largestRepeatCount('a{3000}')).toBe(3000);
    expect(largestRepeatCount('a\\{3000}')).toBe(0);
  });
});

describe('a message\'s time budget', () => {
  it('starts once its rules are compiled: a slow compile (a new rule set, a fresh thread) never scores a message zero', () => {
    const rules = [regex('price')];
    const cache = createRuleCache();
    cache(rules);
    const slowCompile: RuleCache = (given) => {
      for (const until = performance.now() + 100; performance.now() < until;); // compiling, on a busy machine
      return cache(given);
    };
    expect(scoreTask(slowCompile, { rules, text: 'price', budgetMs: 50 })).toMatchObject({ scoreDelta: 1, timedOut: false });
  });
});

describe('the scoring pool', () => {
  const pool = createScoringPool({ threads: 2, maxChars: 4_096, timeBudgetMs: 250 });
  afterAll(() => pool.close());

  it('scores like the engine, off the main thread, and only the first maxChars characters', async () => {
    const rules = [regex('price'), { ...regex('plan'), weight: 5, tag: 'pricing' }];
    expect(await pool.score('t1', rules, 'PRICE of the plan')).toEqual({ scoreDelta: 6, tags: ['pricing'], timedOut: false });
    expect((await pool.score('t1', rules, `${'x'.repeat(4_096)} price`)).scoreDelta).toBe(0);
    expect((await pool.score('t1', rules, `${'x'.repeat(4_000)} price`)).scoreDelta).toBe(1);
  });

  it('stops a message over its time budget (score 0, flagged) while the main thread keeps running, and goes on scoring', async () => {
    let ticks = 0;
    const ticker = setInterval(() => { ticks += 1; }, 10);
    const started = performance.now();
    // Accepted rules and a long message: seconds of matching on one thread without the budget.
    const result = await pool.score('hostile', hostileRules(), hostileText(30_000));
    const elapsed = performance.now() - started;
    clearInterval(ticker);
    expect(result).toEqual({ scoreDelta: 0, tags: [], timedOut: true });
    expect(ticks).toBeGreaterThan(elapsed / 10 / 4); // the event loop was never blocked for long
    expect(await pool.score('hostile', [regex('price')], 'price')).toEqual({ scoreDelta: 1, tags: [], timedOut: false });
  });

  it('terminates a thread stuck in one rule stored before the limits, and goes on with a fresh one', async () => {
    // One rule of 20,003 instructions (refused when saved today): about 2.2 s on 4,096 characters, in one match.
    const legacy = [regex(`${'.{0,1000}'.repeat(10)}x`)];
    // timedOut: the thread was terminated at its budget; a match left to finish would have scored.
    expect(await pool.score('legacy', legacy, 'a'.repeat(4_096))).toEqual({ scoreDelta: 0, tags: [], timedOut: true });
    expect(await pool.score('legacy', [regex('price')], 'price')).toEqual({ scoreDelta: 1, tags: [], timedOut: false });
  });

  it('keeps another tenant\'s messages moving while one tenant floods costly ones', async () => {
    const hostile = Array.from({ length: 6 }, (_, i) => pool.score('hostile', hostileRules(), hostileText(4_096, i + 2)));
    let floodDone = false;
    const flood = Promise.all(hostile).then((scores) => { floodDone = true; return scores; });
    for (let i = 0; i < 5; i += 1) expect((await pool.score('calm', [regex('price')], 'price please')).scoreDelta).toBe(1);
    // Six hostile messages of 250 ms each queue behind one another on one thread; the calm tenant has
    // the other, so its five are done while the flood is still queued (an order, not a time: load-proof).
    expect(floodDone).toBe(false);
    expect((await flood).every((score) => score.timedOut)).toBe(true);
  });
});
