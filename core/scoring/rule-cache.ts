// Compiling a bot's rules costs far more than evaluating a message (about 15 ms for 50 rules
// against 40 µs), so compiled rule sets are kept, keyed by their exact content: an edited rule
// is a different key and can never be served stale.
import { createHash } from 'node:crypto';
import { compileRules, type CompiledRule } from './evaluate.ts';
import type { ScoringRule } from './rules.ts';

export type RuleCache = (rules: readonly ScoringRule[]) => readonly CompiledRule[];

export const createRuleCache = (maxEntries = 1_000): RuleCache => {
  const entries = new Map<string, readonly CompiledRule[]>();
  return (rules) => {
    const key = createHash('sha256')
      .update(JSON.stringify(rules.map(({ kind, pattern, weight, tag, active }) => [kind, pattern, weight, tag ?? null, active])))
      .digest('base64');
    const cached = entries.get(key);
    if (cached) {
      // Least recently used first out: re-inserting moves the key to the end of Map's order.
      entries.delete(key);
      entries.set(key, cached);
      return cached;
    }
    const compiled = compileRules(rules);
    entries.set(key, compiled);
    if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
    return compiled;
  };
};
