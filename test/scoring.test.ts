// The scoring engine: pure, linear-time (RE2), rules validated when written.
import { describe, expect, it } from '@jest/globals';
import { compileRules, evaluateMessage } from '../core/scoring/evaluate.ts';
import { createRuleCache } from '../core/scoring/rule-cache.ts';
import { RULE_LIMITS, ScoringRuleError, validateScoringRules, type ScoringRule } from '../core/scoring/rules.ts';

const rule = (overrides: Partial<ScoringRule>): ScoringRule => ({ kind: 'keyword', pattern: 'price', weight: 10, tag: null, active: true, ...overrides });

describe('scoring rules', () => {
  it('match keywords as whole words in any script, case-insensitively, counting each rule once', () => {
    const compiled = compileRules([
      rule({ pattern: 'preço', weight: 15, tag: 'pricing' }),
      rule({ pattern: 'plan', weight: 5, tag: 'pricing' }),
    ]);
    expect(evaluateMessage(compiled, 'Qual o PREÇO? preço, preço!')).toMatchObject({ scoreDelta: 15, tags: ['pricing'] });
    expect(evaluateMessage(compiled, 'explanation of preçoes').scoreDelta).toBe(0);
    expect(evaluateMessage(compiled, 'which plan and what preço').scoreDelta).toBe(20);
  });

  it('match phrases with any whitespace, and treat their text literally', () => {
    const compiled = compileRules([rule({ kind: 'phrase', pattern: 'how much (USD)?', weight: 7 })]);
    expect(evaluateMessage(compiled, 'So, HOW  much\n(usd)? please').scoreDelta).toBe(7);
    expect(evaluateMessage(compiled, 'how much usd').scoreDelta).toBe(0);
  });

  it('run regex rules, skip inactive ones, and sum negative weights', () => {
    const compiled = compileRules([
      rule({ kind: 'regex', pattern: '\\b\\d{2,3} ?(users|seats)\\b', weight: 30, tag: 'size' }),
      rule({ pattern: 'cancel', weight: -20, tag: 'churn' }),
      rule({ pattern: 'discount', weight: 100, active: false }),
    ]);
    expect(evaluateMessage(compiled, 'we need 250 seats, discount?')).toMatchObject({ scoreDelta: 30, tags: ['size'] });
    expect(evaluateMessage(compiled, '40 users or we cancel')).toMatchObject({ scoreDelta: 10, tags: ['churn', 'size'] });
  });

  it('reuse a compiled rule set while its rules are unchanged, and never serve an edited rule stale', () => {
    const cache = createRuleCache(2);
    const rules = [rule({ pattern: 'price' }), rule({ kind: 'regex', pattern: '\\d+ seats', weight: 4 })];
    const first = cache(rules);
    expect(cache(rules.map((r) => ({ ...r })))).toBe(first);
    const edited = cache([rules[0]!, { ...rules[1]!, weight: 5 }]);
    expect(edited).not.toBe(first);
    expect(evaluateMessage(edited, '20 seats at what price').scoreDelta).toBe(15);
    cache([rule({ pattern: 'plan' })]); // third set: the least recently used (the first) leaves
    expect(cache(rules)).not.toBe(first);
  });

  it('finish catastrophic-backtracking patterns against a 100 kB message (linear engine)', () => {
    const compiled = compileRules([
      rule({ kind: 'regex', pattern: '(a+)+$', weight: 1 }),
      rule({ kind: 'regex', pattern: '(a|aa)+b', weight: 1 }),
      rule({ kind: 'regex', pattern: '(.*a){20}z', weight: 1 }),
    ]);
    const hostile = `${'a'.repeat(100_000)}!`;
    expect(evaluateMessage(compiled, hostile).scoreDelta).toBe(0);
  });

  it('refuse when written: a pattern that does not compile, with the rule named', () => {
    expect(() => validateScoringRules([rule({}), rule({ kind: 'regex', pattern: '(unclosed' })])).toThrow(
      /^rule 1 \(regex\) does not compile: /,
    );
    // Backreferences and lookarounds need backtracking; RE2 refuses them instead of risking ReDoS.
    expect(() => validateScoringRules([rule({ kind: 'regex', pattern: '(a)\\1' })])).toThrow(ScoringRuleError);
    expect(() => validateScoringRules([rule({ kind: 'regex', pattern: 'foo(?=bar)' })])).toThrow(ScoringRuleError);
  });

  it('refuse when written: limits on length, count, weight, and unknown fields', () => {
    expect(() => validateScoringRules([rule({ pattern: 'x'.repeat(RULE_LIMITS.patternLength + 1) })])).toThrow(/^rule 0: pattern /);
    expect(() => validateScoringRules(Array.from({ length: RULE_LIMITS.rulesPerBot + 1 }, () => rule({})))).toThrow(/at most 200 rules per bot/);
    expect(() => validateScoringRules([rule({ weight: 1001 })])).toThrow(/^rule 0: weight /);
    expect(() => validateScoringRules([{ ...rule({}), flags: 'g' }])).toThrow(/^rule 0: .*flags/);
    expect(validateScoringRules([rule({ pattern: '  price ' })])[0]?.pattern).toBe('price');
  });
});
