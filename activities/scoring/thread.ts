// A scoring thread: evaluates a message against a bot's rules, off the worker's main thread, with
// its own compiled-rule cache. It stops trying rules once the message's budget is spent; the pool
// terminates it only when one rule alone runs far past it (a rule stored before the cost limits).
import { parentPort } from 'node:worker_threads';
import { createRuleCache } from '../../core/scoring/rule-cache.ts';
import { compileRule } from '../../core/scoring/rules.ts';
import type { ScoringTask } from './pool.ts';
import { scoreTask } from './score-task.ts';

const compiledRules = createRuleCache();
// A first compile builds RE2's Unicode tables (keywords match letters of any script): paid here, at
// start-up, not by the first message the thread scores (within the pool's backstop timer).
compileRule({ kind: 'keyword', pattern: 'preço' });
parentPort!.postMessage('ready');

parentPort!.on('message', (task: ScoringTask) => {
  try {
    // The budget is checked between rules, so the thread (and its compiled rules) survive a costly message.
    const { scoreDelta, tags, timedOut } = scoreTask(compiledRules, task);
    parentPort!.postMessage({ scoreDelta, tags, timedOut });
  } catch (error) {
    parentPort!.postMessage({ error: (error as Error).message });
  }
});
