// One message's score in a scoring thread. The budget is the message's: its clock starts once the
// rules are compiled, so compiling a new or edited rule set (bounded by the save-time limits, and
// under the pool's terminate backstop) never scores an honest message zero on a busy machine.
import { evaluateMessage, type Evaluation } from '../../core/scoring/evaluate.ts';
import type { RuleCache } from '../../core/scoring/rule-cache.ts';
import type { ScoringTask } from './pool.ts';

export const scoreTask = (compiledRules: RuleCache, { rules, text, budgetMs }: ScoringTask): Evaluation & { readonly timedOut: boolean } => {
  const compiled = compiledRules(rules);
  return evaluateMessage(compiled, text, performance.now() + budgetMs);
};
