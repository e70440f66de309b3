// Check → record → fix → verify. `auto` fixes are applied at once; `approval` fixes wait for the
// `approve` signal until the approval timeout, then expire unapplied. A fix is done only when the
// re-run of its check no longer finds it.
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { condition, defineSignal, executeChild, ParentClosePolicy, patched, proxyActivities, setHandler, startChild, workflowInfo } from '@temporalio/workflow';
import type { AlertDelivery, IntegrityAlertWebhookActivities } from '../activities/data-integrity/alert-webhook.ts';
import type { DataIntegrityActivities } from '../activities/data-integrity/index.ts';
import { failureReason } from '../core/temporal/failure-reason.ts';
import { NON_RETRYABLE_PLATFORM_ERRORS } from '../core/temporal/retry.ts';
import {
  APPROVE_FIXES_SIGNAL, integrityAlertsWorkflowId, integrityApprovalsWorkflowId, integrityWorkflowId,
  type ApproveFixesSignal, type FixOutcome, type IntegrityWorkflowInput, type IntegrityWorkflowResult,
} from '../core/temporal/data-integrity.ts';

const integrity = proxyActivities<DataIntegrityActivities>({
  // A platform run reads every table once; the benchmark target is seconds, this bounds a stuck one.
  startToCloseTimeout: '10 minutes',
  // The activities heartbeat every 15 s: a worker killed mid-fix hands the fix to another in 30 s.
  heartbeatTimeout: '30 seconds',
  retry: { maximumAttempts: 5, nonRetryableErrorTypes: ['FixNotUndoableError'] },
});

// The alert receiver may be down for hours: back off up to 10 minutes between tries, for a day.
const { integrityDeliverAlert } = proxyActivities<IntegrityAlertWebhookActivities>({
  startToCloseTimeout: '1 minute',
  scheduleToCloseTimeout: '24 hours',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 minutes', nonRetryableErrorTypes: NON_RETRYABLE_PLATFORM_ERRORS },
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
  // Histories recorded before the alert webhook have no alerts in their result: they replay unchanged.
  if ((run.alerts ?? []).length > 0 && patched('integrity-alert-webhook')) {
    await startChild(deliverIntegrityAlerts, {
      workflowId: integrityAlertsWorkflowId(run.runId), parentClosePolicy: ParentClosePolicy.ABANDON, args: [{ findingIds: run.alerts! }],
    });
  }
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
 * `integrity-alerts/<runId>`: each new critical finding of a run to the alert webhook, retried with
 * backoff; started by the run and outliving it, so a receiver that is down never holds the scope.
 */
export async function deliverIntegrityAlerts(input: { findingIds: readonly string[] }): Promise<{
  delivered: readonly AlertDelivery[]; failed: readonly { findingId: string; reason: string }[];
}> {
  const outcomes = await Promise.allSettled(input.findingIds.map((findingId) => integrityDeliverAlert({ findingId })));
  const delivered: AlertDelivery[] = [];
  const failed: { findingId: string; reason: string }[] = [];
  outcomes.forEach((outcome, index) => {
    if (outcome.status === 'fulfilled') delivered.push(outcome.value);
    else failed.push({ findingId: input.findingIds[index]!, reason: failureReason(outcome.reason) });
  });
  return { delivered, failed };
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
