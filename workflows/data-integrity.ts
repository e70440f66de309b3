// `integrity/<scope>`: check → record → fix → verify. `auto` fixes are applied at once; `approval`
// fixes wait for the `approve` signal until the approval timeout, then expire unapplied. A fix is
// done only when the re-run of its check no longer finds it.
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { condition, defineSignal, executeChild, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { DataIntegrityActivities } from '../activities/data-integrity/index.ts';
import {
  APPROVE_FIXES_SIGNAL, integrityWorkflowId,
  type ApproveFixesSignal, type FixOutcome, type IntegrityWorkflowInput, type IntegrityWorkflowResult,
} from '../core/temporal/data-integrity.ts';

const integrity = proxyActivities<DataIntegrityActivities>({
  // A platform run reads every table once; the benchmark target is seconds, this bounds a stuck one.
  startToCloseTimeout: '10 minutes',
  retry: { maximumAttempts: 5, nonRetryableErrorTypes: ['FixNotUndoableError'] },
});

export const approveIntegrityFixes = defineSignal<[ApproveFixesSignal]>(APPROVE_FIXES_SIGNAL);

export async function dataIntegrityRun(input: IntegrityWorkflowInput): Promise<IntegrityWorkflowResult> {
  const approvals = new Map<string, string>();
  setHandler(approveIntegrityFixes, ({ fixIds, approvedBy }) => {
    for (const fixId of fixIds) if (!approvals.has(fixId)) approvals.set(fixId, approvedBy);
  });
  const run = await integrity.integrityRunChecks({ scope: input.scope, workflowId: workflowInfo().workflowId });
  const outcomes = new Map<string, FixOutcome>(run.fixes.map((fix) => [fix.fixId, { fixId: fix.fixId, status: 'planned', failure: null }]));

  const applyAndVerify = async (fixes: readonly { fixId: string; approvedBy: string | null }[]) => {
    const applied: string[] = [];
    for (const fix of fixes) {
      const outcome = await integrity.integrityApplyFix(fix);
      outcomes.set(fix.fixId, outcome);
      if (outcome.status === 'applied') applied.push(fix.fixId);
    }
    if (applied.length === 0) return;
    for (const outcome of await integrity.integrityVerifyFixes({ scope: input.scope, fixIds: applied })) outcomes.set(outcome.fixId, outcome);
  };

  await applyAndVerify(run.fixes.filter((fix) => fix.class === 'auto').map((fix) => ({ fixId: fix.fixId, approvedBy: null })));

  const waiting = new Set(run.fixes.filter((fix) => fix.class === 'approval').map((fix) => fix.fixId));
  const expiresAt = Date.now() + input.approvalTimeoutMs;
  const approvedNow = () => [...waiting].filter((fixId) => approvals.has(fixId));
  while (waiting.size > 0) {
    const left = expiresAt - Date.now();
    if (left <= 0 || !await condition(() => approvedNow().length > 0, left)) break;
    const batch = approvedNow();
    for (const fixId of batch) waiting.delete(fixId);
    await applyAndVerify(batch.map((fixId) => ({ fixId, approvedBy: approvals.get(fixId)! })));
  }
  if (waiting.size > 0) {
    await integrity.integrityExpireFixes({ fixIds: [...waiting] });
    for (const fixId of waiting) outcomes.set(fixId, { fixId, status: 'expired', failure: null });
  }
  return { runId: run.runId, findings: run.findings, fixes: [...outcomes.values()] };
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
