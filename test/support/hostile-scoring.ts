// Scoring rules that pass every save-time limit and still cost much per message, and the text
// that makes them costly: the vowels keep the matcher's state sets changing, so its DFA cache
// never settles (20 such rules took 1.4 s on 4,096 random letters, ~10 s on 30,000).
import type { ScoringRule } from '../../core/scoring/rules.ts';

export const HOSTILE_PATTERN = '[aeiou][^aeiou]{0,100}[aeiou].{0,100}[aeiou].{0,100}[aeiou].{0,100}x9';

export const hostileRules = (count = 20): ScoringRule[] =>
  Array.from({ length: count }, (_, i) => ({ kind: 'regex', pattern: `${HOSTILE_PATTERN}${i}`, weight: 1, tag: null, active: true }));

/** Pseudo-random letters and spaces, the same for the same seed. */
export const hostileText = (length: number, seed = 1) => {
  let state = seed;
  const next = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  return Array.from({ length }, () => 'abcdefghijklmnopqrstuvwxyz '[Math.floor(next() * 27)]).join('');
};
