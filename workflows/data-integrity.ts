// Check → record → fix → verify. `auto` fixes are applied at once; `approval` fixes wait for the
// `approve` signal until the approval timeout, then expire unapplied. A fix is done only when the
// re-run of its check no longer finds it.
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { condition, defineSignal, executeChild, ParentClosePolicy, proxyActivities, setHandler, startChild, workflowInfo } from '@temporalio/workflow';
import type { DataIntegrityActivities } from '../activities/data-integrity/index.ts';
import {
  APPROVE_FIXES_SIGNAL, integrityApprovalsWorkflowId, integrityWorkflowId,
  type ApproveFixesSignal, type FixOutcome, type IntegrityWorkflowInput, type IntegrityWorkflowResult,
} from '../core/temporal/data-integrity.ts';

const integrity = proxyActivities<DataIntegrityActivities>({
  // A platform run reads every table once; the benchmark target is seconds, this bounds a stuck one.
  startToCloseTimeout: '10 minutes',
  // The activities heartbeat every 15 s: a worker killed mid-fix hands the fix to another in 30 s.
  heartbeatTimeout: '30 seconds',
  retry: { maximumAttempts: 5, nonRetryableErrorTypes: ['FixNotUndoableError'] },
});

export const approveIntegrityFixes = defineSignal<[ApproveFixesSignal]>(APPROVE_FIXES_SIGNAL);

const applyAndVerify = async (scope: string, fixes: readonly { fixId: string; approvedBy: string | null }[]): Promise<FixOutcome[]> => {
  const outcomes = new Map<string, FixOutcome>();
  const applied: string[] = [];
  for (const fix of fixes) {
    const outcome = await integrity.integrityApplyFix(fix);
    outcomes.set(fix.fixId, outcome);
    if (outcome.status === 'applied') applied.push(fix.fixId);
  }
  if (applied.length > 0) for (const outcome of await integrity.integrityVerifyFixes({ scope, fixIds: applied })) outcomes.set(outcome.fixId, outcome);
  return [...outcomes.values()];
};

/**
 * `integrity/<scope>`: runs the checks, records them, applies and verifies the `auto` fixes. The
 * `approval` fixes wait in their own workflow, `integrity-approvals/<runId>`, so a fix awaiting a
 * person never holds the scope: the next hourly run is not skipped for it.
 */
export async function dataIntegrityRun(input: IntegrityWorkflowInput): Promise<IntegrityWorkflowResult> {
  const run = await integrity.integrityRunChecks({ scope: input.scope, workflowId: workflowInfo().workflowId });
  const auto = await applyAndVerify(input.scope, run.fixes.filter((fix) => fix.class === 'auto').map((fix) => ({ fixId: fix.fixId, approvedBy: null })));
  const awaiting = run.fixes.filter((fix) => fix.class === 'approval').map((fix) => fix.fixId);
  const approvalsWorkflowId = awaiting.length === 0 ? null : integrityApprovalsWorkflowId(run.runId);
  if (approvalsWorkflowId !== null) {
    await startChild(awaitIntegrityApprovals, {
      workflowId: approvalsWorkflowId, parentClosePolicy: ParentClosePolicy.ABANDON,
      args: [{ scope: input.scope, fixIds: awaiting, approvalTimeoutMs: input.approvalTimeoutMs }],
    });
  }
  const planned = awaiting.map((fixId): FixOutcome => ({ fixId, status: 'planned', failure: null }));
  return { runId: run.runId, findings: run.findings, fixes: [...auto, ...planned], approvalsWorkflowId };
}

/**
 * `integrity-approvals/<runId>`: applies each planned `approval` fix once the `approve` signal names
 * it, until the approval timeout; what is still unapproved then expires and is never applied.
 */
export async function awaitIntegrityApprovals(input: { scope: string; fixIds: readonly string[]; approvalTimeoutMs: number }): Promise<FixOutcome[]> {
  const approvals = new Map<string, string>();
  setHandler(approveIntegrityFixes, ({ fixIds, approvedBy }) => {
    for (const fixId of fixIds) if (!approvals.has(fixId)) approvals.set(fixId, approvedBy);
  });
  const outcomes: FixOutcome[] = [];
  const waiting = new Set(input.fixIds);
  const expiresAt = Date.now() + input.approvalTimeoutMs;
  const approvedNow = () => [...waiting].filter((fixId) => approvals.has(fixId));
  while (waiting.size > 0) {
    const left = expiresAt - Date.now();
    if (left <= 0 || !await condition(() => approvedNow().length > 0, left)) break;
    const batch = approvedNow();
    for (const fixId of batch) waiting.delete(fixId);
    outcomes.push(...await applyAndVerify(input.scope, batch.map((fixId) => ({ fixId, approvedBy: approvals.get(fixId)! }))));
  }
  if (waiting.size > 0) {
    await integrity.integrityExpireFixes({ fixIds: [...waiting] });
    for (const fixId of waiting) outcomes.push({ fixId, status: 'expired', failure: null });
  }
  return outcomes;
}

/**
 * Started by the Schedule `integrity-hourly`: runs `integrity/platform` as a child under that exact
 * id, so it never overlaps a run started from the API; one already running is left alone.
 */
export async function scheduledIntegrityRun(input: IntegrityWorkflowInput): Promise<IntegrityWorkflowResult | { skipped: string }> {
  const workflowId = integrityWorkflowId(input.scope);
  try {
    return await executeChild(dataIntegrityRun, { workflowId, args: [input] });
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return { skipped: `${workflowId} is already running` };
    throw error;
  }
}

/** `integrity-undo/<fixId>`: restores the rows a fix changed from their before-images (refused whole, never half). */
export async function undoIntegrityFix(input: { fixId: string; actor: string }): Promise<void> {
  await integrity.integrityUndoFix(input);
}
