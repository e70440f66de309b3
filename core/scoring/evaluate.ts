// Pure, linear-time scoring: every rule is an RE2 automaton, so evaluation cost grows with the
// message length whatever a tenant wrote as a pattern (no ReDoS).
import type { RE2JS } from 're2js';
import { compileRule, type ScoringRule } from './rules.ts';

export type CompiledRule = { readonly rule: ScoringRule; readonly matcher: RE2JS };
export type Evaluation = { readonly scoreDelta: number; readonly tags: readonly string[]; readonly matchedRules: readonly ScoringRule[] };

/** Compiles the active rules once; reuse the result for every message of the bot. */
export const compileRules = (rules: readonly ScoringRule[]): CompiledRule[] =>
  rules.filter((rule) => rule.active).map((rule, index) => ({ rule, matcher: compileRule(rule, index) }));

/**
 * Each matching rule counts once per message, however often its pattern occurs. With a deadline
 * (a `performance.now()` time), rules are no longer tried once it has passed: `timedOut`.
 */
export const evaluateMessage = (compiled: readonly CompiledRule[], text: string, deadline = Infinity): Evaluation & { readonly timedOut: boolean } => {
  const normalized = text.normalize('NFC');
  const matchedRules: ScoringRule[] = [];
  let timedOut = false;
  for (const { rule, matcher } of compiled) {
    if (performance.now() > deadline) {
      timedOut = true;
      break;
    }
    if (matcher.test(normalized)) matchedRules.push(rule);
  }
  return {
    timedOut,
    scoreDelta: matchedRules.reduce((sum, rule) => sum + rule.weight, 0),
    tags: [...new Set(matchedRules.flatMap((rule) => (rule.tag ? [rule.tag] : [])))].sort(),
    matchedRules,
  };
};

/** The part of a message that is scored: its first `maxChars` characters, never half a surrogate pair. */
export const scoredPart = (text: string, maxChars: number): string => {
  if (text.length <= maxChars) return text;
  const cut = text.slice(0, maxChars);
  return /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut;
};
