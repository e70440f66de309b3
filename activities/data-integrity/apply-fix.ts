// Applies one planned fix in its own transaction: the fix row is locked and its status checked
// first, so a retried or repeated activity never applies a fix twice; the before-images, the
// change and the status commit together. An `approval` fix needs its approver.
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { findingSchema, type IntegrityCheck } from '../../core/data-integrity/check.ts';
import { isRetryableTransactionError } from '../../core/db/transient-errors.ts';
import { unavailableDependency } from '../../core/unavailable-dependency.ts';
import { FIX_STATUSES, type FixOutcome } from '../../core/temporal/data-integrity.ts';
import { createBeforeImageLog } from './before-image-log.ts';
import { createFixEffects } from './fix-effects.ts';
import { recordFixFailure } from './fix-status.ts';
import type { IntegrityOutside } from './sources/index.ts';

const plannedFix = z.object({
  status: z.enum(FIX_STATUSES),
  class: z.enum(['auto', 'approval']),
  failure: z.string().nullable(),
  checkName: z.string(),
  finding: findingSchema,
});

export const applyFix = async (
  maintenance: DatabasePool,
  checks: readonly IntegrityCheck[],
  fixId: string,
  approvedBy: string | null,
  outside?: IntegrityOutside,
): Promise<FixOutcome> => {
  try {
    return await maintenance.transaction(async (tx) => {
      // A row changed by someone else after this snapshot makes the change fail (40001), not overwrite it.
      await tx.query(sql.unsafe`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ`);
      await tx.query(sql.unsafe`SELECT set_config('app.actor', ${`data-integrity:${approvedBy ?? 'auto'}`}, true)`);
      const fix = await tx.one(sql.type(plannedFix)`
        SELECT x.status, x.class, x.failure, f.check_name AS "checkName",
               jsonb_build_object('key', f.finding_key, 'tenantId', f.affected_tenant_id, 'summary', f.summary, 'details', f.details) AS finding
          FROM integrity_fixes x JOIN integrity_findings f ON f.id = x.finding_id
         WHERE x.id = ${fixId} FOR UPDATE OF x`);
      if (fix.status !== 'planned') return { fixId, status: fix.status, failure: fix.failure };
      // Not approved (yet): left planned, untouched.
      if (fix.class === 'approval' && approvedBy === null) return { fixId, status: fix.status, failure: null };
      const check = checks.find((candidate) => candidate.name === fix.checkName);
      if (check?.fix === undefined) throw new Error(`check ${fix.checkName} has no fix`);
      await check.fix.apply(tx, fix.finding, createBeforeImageLog(tx, fixId), createFixEffects(tx, fixId, outside));
      await tx.query(sql.unsafe`
        UPDATE integrity_fixes SET status = 'applied', applied_at = now(), approved_by = ${approvedBy} WHERE id = ${fixId}`);
      return { fixId, status: 'applied' as const, failure: null };
    });
  } catch (error) {
    // Rolled back, still planned: an outage or a concurrent change is retried by Temporal, not a failed fix.
    if (unavailableDependency(error) !== null || isRetryableTransactionError(error)) throw error;
    return recordFixFailure(maintenance, fixId, error);
  }
};
