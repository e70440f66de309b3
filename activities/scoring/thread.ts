// A scoring thread: evaluates a message against a bot's rules, off the worker's main thread, with
// its own compiled-rule cache. The pool terminates it when a message runs over its time budget.
import { parentPort } from 'node:worker_threads';
import { evaluateMessage } from '../../core/scoring/evaluate.ts';
import { createRuleCache } from '../../core/scoring/rule-cache.ts';
import type { ScoringTask } from './pool.ts';

const compiledRules = createRuleCache();
parentPort!.postMessage('ready');

parentPort!.on('message', ({ rules, text }: ScoringTask) => {
  try {
    const { scoreDelta, tags } = evaluateMessage(compiledRules(rules), text);
    parentPort!.postMessage({ scoreDelta, tags });
  } catch (error) {
    parentPort!.postMessage({ error: (error as Error).message });
  }
});
