// Scoring off the platform worker's main thread, which runs every tenant's workflow and activity
// tasks: a few worker threads, each message with a time budget (past it the message scores zero,
// flagged; a thread far past it is terminated and replaced), and fairness between tenants: one
// tenant never holds more than one thread, so a tenant whose rules and messages are costly waits
// behind itself.
import { Worker } from 'node:worker_threads';
import { scoredPart } from '../../core/scoring/evaluate.ts';
import type { ScoringRule } from '../../core/scoring/rules.ts';

export type ScoringTask = { readonly rules: readonly ScoringRule[]; readonly text: string; readonly budgetMs: number };
export type Score = { readonly scoreDelta: number; readonly tags: readonly string[]; readonly timedOut: boolean };
export type ScoringPool = {
  score(tenantId: string, rules: readonly ScoringRule[], text: string): Promise<Score>;
  close(): Promise<void>;
};
export type ScoringLimits = { readonly threads: number; readonly maxChars: number; readonly timeBudgetMs: number };

type Pending = { task: ScoringTask; resolve: (score: Score) => void; reject: (error: Error) => void };
type Slot = { worker: Worker; ready: boolean; tenantId: string | null };

const THREAD = new URL('./thread.ts', import.meta.url);
const TIMED_OUT: Score = { scoreDelta: 0, tags: [], timedOut: true };
/**
 * A thread is terminated when a message takes this many budgets: only a single rule can overrun the
 * budget (it is checked between rules), and the save-time limits keep an accepted rule far below it.
 * Terminating is the backstop: a new thread costs a start-up and recompiling its rules.
 */
const TERMINATE_AFTER_BUDGETS = 4;

export const createScoringPool = (limits: ScoringLimits): ScoringPool => {
  const slots: Slot[] = [];
  // Waiting messages by tenant; Map order is the round-robin order.
  const waiting = new Map<string, Pending[]>();
  let closed = false;

  // Threads start on first use and keep the process alive only while loading or scoring. A thread
  // takes work once it has loaded (its start-up does not count against a message's budget).
  const spawn = (): Slot => {
    const worker = new Worker(THREAD);
    const slot: Slot = { worker, ready: false, tenantId: null };
    worker.once('message', () => {
      slot.ready = true;
      worker.unref();
      dispatch();
    });
    // A thread that cannot even load fails the waiting messages (their activities retry) instead of
    // hanging them; one that fails while idle is replaced (a failure while scoring is handled by run).
    worker.on('error', (error) => {
      if (slot.tenantId !== null) return;
      const at = slots.indexOf(slot);
      if (at >= 0) slots.splice(at, 1);
      if (slot.ready) return dispatch();
      for (const queue of waiting.values()) for (const pending of queue) pending.reject(error);
      waiting.clear();
    });
    return slot;
  };
  const replace = (slot: Slot) => {
    void slot.worker.terminate();
    const at = slots.indexOf(slot);
    if (at >= 0 && !closed) slots[at] = spawn();
    else if (at >= 0) slots.splice(at, 1);
  };

  const run = (slot: Slot, tenantId: string, pending: Pending) => {
    slot.tenantId = tenantId;
    slot.worker.ref();
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      slot.worker.off('message', onReply).off('error', onError).unref();
      slot.tenantId = null;
      settle();
      dispatch();
    };
    const onReply = (reply: Score | { error: string }) => finish(() => {
      if ('error' in reply) pending.reject(new Error(`scoring failed: ${reply.error}`));
      else pending.resolve(reply.timedOut ? TIMED_OUT : reply);
    });
    const onError = (error: Error) => finish(() => {
      replace(slot);
      pending.reject(error);
    });
    // The only way to stop a regular expression mid-match: the thread goes, a fresh one takes its place.
    const timer = setTimeout(() => finish(() => {
      replace(slot);
      pending.resolve(TIMED_OUT);
    }), limits.timeBudgetMs * TERMINATE_AFTER_BUDGETS);
    slot.worker.once('message', onReply).once('error', onError);
    slot.worker.postMessage(pending.task);
  };

  function dispatch() {
    for (const [tenantId, queue] of waiting) {
      if (slots.some((slot) => slot.tenantId === tenantId)) continue; // one thread per tenant at most
      const slot = slots.find((candidate) => candidate.ready && candidate.tenantId === null);
      if (slots.length < limits.threads) slots.push(spawn());
      if (!slot) return;
      const pending = queue.shift()!;
      // To the back of the round: the next free thread goes to another tenant first.
      waiting.delete(tenantId);
      if (queue.length > 0) waiting.set(tenantId, queue);
      run(slot, tenantId, pending);
    }
  }

  return {
    score(tenantId, rules, text) {
      if (closed) return Promise.reject(new Error('the scoring pool is closed'));
      if (rules.length === 0) return Promise.resolve({ scoreDelta: 0, tags: [], timedOut: false });
      return new Promise<Score>((resolve, reject) => {
        const queue = waiting.get(tenantId) ?? [];
        queue.push({ task: { rules, text: scoredPart(text, limits.maxChars), budgetMs: limits.timeBudgetMs }, resolve, reject });
        waiting.set(tenantId, queue);
        dispatch();
      });
    },
    async close() {
      closed = true;
      await Promise.all(slots.splice(0).map((slot) => slot.worker.terminate()));
    },
  };
};
