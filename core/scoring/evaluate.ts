// Pure, linear-time scoring: every rule is an RE2 automaton, so evaluation cost grows with the
// message length whatever a tenant wrote as a pattern (no ReDoS).
import type { RE2JS } from 're2js';
import { compileRule, type ScoringRule } from './rules.ts';

export type CompiledRule = { readonly rule: ScoringRule; readonly matcher: RE2JS };
export type Evaluation = { readonly scoreDelta: number; readonly tags: readonly string[]; readonly matchedRules: readonly ScoringRule[] };

/** Compiles the active rules once; reuse the result for every message of the bot. */
export const compileRules = (rules: readonly ScoringRule[]): CompiledRule[] =>
  rules.filter((rule) => rule.active).map((rule, index) => ({ rule, matcher: compileRule(rule, index) }));

/** Each matching rule counts once per message, however often its pattern occurs. */
export const evaluateMessage = (compiled: readonly CompiledRule[], text: string): Evaluation => {
  const normalized = text.normalize('NFC');
  const matchedRules = compiled.filter(({ matcher }) => matcher.test(normalized)).map(({ rule }) => rule);
  return {
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
