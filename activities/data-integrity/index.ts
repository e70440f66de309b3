// The integrity workflow's activities: run and record the checks, apply, verify, expire and undo fixes.
import { asyncLocalStorage } from '@temporalio/activity';
import type { DatabasePool } from 'slonik';
import type { IntegrityCheck } from '../../core/data-integrity/check.ts';
import { parseScopeName } from '../../core/data-integrity/scope.ts';
import type { FixOutcome, RecordedRun } from '../../core/temporal/data-integrity.ts';
import { heartbeating } from '../backups/keep-alive.ts';
import { applyFix } from './apply-fix.ts';
import { INTEGRITY_CHECKS } from './checks/index.ts';
import { expireFixes } from './fix-status.ts';
import { recordRun } from './record-run.ts';
import { runChecks } from './run-checks.ts';
import type { IntegrityOutside } from './sources/index.ts';
import { undoFix } from './undo-fix.ts';
import { verifyFixes } from './verify-fixes.ts';

/**
 * Heartbeats while the work runs, so a worker that dies mid-activity (mid-fix: its transaction rolls
 * back) is noticed within the workflow's heartbeat timeout and the activity retried on another
 * worker, instead of after its 10-minute start-to-close timeout. Called outside an activity (as the
 * tests do), it just runs the work.
 */
const alive = <T>(work: () => Promise<T>): Promise<T> =>
  heartbeating(() => undefined, work, (details) => asyncLocalStorage.getStore()?.heartbeat(details));

export const createDataIntegrityActivities = (deps: {
  maintenancePool: DatabasePool;
  checks?: readonly IntegrityCheck[];
  /** The bucket and Temporal, for the checks that list them; without them those checks are skipped. */
  outside?: IntegrityOutside;
}) => {
  const pool = deps.maintenancePool;
  const checks = deps.checks ?? INTEGRITY_CHECKS;
  const { outside } = deps;
  return {
    async integrityRunChecks(input: { scope: string; workflowId: string }): Promise<RecordedRun> {
      const scope = parseScopeName(input.scope);
      return alive(async () => recordRun(pool, checks, scope, input.workflowId, await runChecks(pool, checks, scope, outside)));
    },
    async integrityApplyFix(input: { fixId: string; approvedBy: string | null }): Promise<FixOutcome> {
      return alive(() => applyFix(pool, checks, input.fixId, input.approvedBy, outside));
    },
    async integrityVerifyFixes(input: { scope: string; fixIds: readonly string[] }): Promise<FixOutcome[]> {
      return alive(() => verifyFixes(pool, checks, parseScopeName(input.scope), input.fixIds, outside));
    },
    async integrityExpireFixes(input: { fixIds: readonly string[] }): Promise<void> {
      await expireFixes(pool, input.fixIds);
    },
    async integrityUndoFix(input: { fixId: string; actor: string }): Promise<void> {
      await alive(() => undoFix(pool, checks, input.fixId, input.actor, outside));
    },
  };
};

export type DataIntegrityActivities = ReturnType<typeof createDataIntegrityActivities>;
