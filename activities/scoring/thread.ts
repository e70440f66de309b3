// A scoring thread: evaluates a message against a bot's rules, off the worker's main thread, with
// its own compiled-rule cache. It stops trying rules once the message's budget is spent; the pool
// terminates it only when one rule alone runs far past it (a rule stored before the cost limits).
import { parentPort } from 'node:worker_threads';
import { evaluateMessage } from '../../core/scoring/evaluate.ts';
import { createRuleCache } from '../../core/scoring/rule-cache.ts';
import type { ScoringTask } from './pool.ts';

const compiledRules = createRuleCache();
parentPort!.postMessage('ready');

parentPort!.on('message', ({ rules, text, budgetMs }: ScoringTask) => {
  try {
    // The budget is checked between rules, so the thread (and its compiled rules) survive a costly message.
    const deadline = performance.now() + budgetMs;
    const { scoreDelta, tags, timedOut } = evaluateMessage(compiledRules(rules), text, deadline);
    parentPort!.postMessage({ scoreDelta, tags, timedOut });
  } catch (error) {
    parentPort!.postMessage({ error: (error as Error).message });
  }
});
