// The integrity workflow's contract: its id, input, signal and the shapes its activities return.
import type { FixClass } from '../data-integrity/check.ts';

/** One run per scope at a time: the id is the scope (`platform` or `tenant-<uuid>`). */
export const integrityWorkflowId = (scopeName: string) => `integrity/${scopeName}`;

/** Where a run's `approval` fixes wait for their approval signal. */
export const integrityApprovalsWorkflowId = (runId: string) => `integrity-approvals/${runId}`;

/** Delivers a run's alerts to the alert webhook, each keyed by its finding id. */
export const integrityAlertsWorkflowId = (runId: string) => `integrity-alerts/${runId}`;

/** One undo per fix: a repeated request joins it. */
export const integrityUndoWorkflowId = (fixId: string) => `integrity-undo/${fixId}`;

export const INTEGRITY_HOURLY_SCHEDULE_ID = 'integrity-hourly';

export type IntegrityWorkflowInput = {
  /** `platform` or `tenant-<uuid>`. */
  readonly scope: string;
  /** How long an approval fix waits for its approval before it expires, ms. */
  readonly approvalTimeoutMs: number;
};

/** Approves planned `approval` fixes, by fix id: sent to `integrity-approvals/<runId>`. */
export const APPROVE_FIXES_SIGNAL = 'approve';
export type ApproveFixesSignal = { readonly fixIds: readonly string[]; readonly approvedBy: string };

export type PlannedFix = {
  readonly fixId: string;
  readonly check: string;
  readonly class: FixClass;
  readonly findingKey: string;
};

export type RecordedRun = {
  readonly runId: string;
  readonly findings: number;
  readonly fixes: readonly PlannedFix[];
  /** Findings alerted as new and critical: each goes to the alert webhook once (absent in histories recorded before it). */
  readonly alerts?: readonly string[];
};

export const FIX_STATUSES = ['planned', 'approved', 'applied', 'verified', 'failed', 'expired', 'undone'] as const;
export type FixStatus = (typeof FIX_STATUSES)[number];

export type FixOutcome = { readonly fixId: string; readonly status: FixStatus; readonly failure: string | null };

export type IntegrityWorkflowResult = {
  readonly runId: string;
  readonly findings: number;
  /** `auto` fixes as applied and verified; `approval` fixes as planned (they wait in the approvals workflow). */
  readonly fixes: readonly FixOutcome[];
  readonly approvalsWorkflowId: string | null;
};
