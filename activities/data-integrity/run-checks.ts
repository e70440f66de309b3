// Runs the integrity checks on one consistent snapshot: a single REPEATABLE READ, READ ONLY
// transaction as bi_maintenance, so every finding describes the same instant and no check can write.
// The bucket and Temporal listings, when checks need them, are taken once, right after the snapshot.
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import type { Finding, IntegrityCheck, IntegrityScope, Severity } from '../../core/data-integrity/check.ts';
import { MAX_FINDINGS_PER_CHECK } from '../../core/data-integrity/check.ts';
import { availableSources, gatherSources, type IntegrityOutside } from './sources/index.ts';

export type CheckResult = {
  readonly check: string;
  readonly severity: Severity;
  readonly findings: readonly Finding[];
  /** More findings existed than MAX_FINDINGS_PER_CHECK; only the first are listed. */
  readonly truncated: boolean;
  readonly durationMs: number;
};

/** The checks a run of this scope runs: a check needing a listing the runner cannot take is left out. */
export const checksForScope = (checks: readonly IntegrityCheck[], scope: IntegrityScope, outside?: IntegrityOutside) => {
  const available = availableSources(outside);
  return checks.filter((check) => (scope.tenantId === null || !check.platformOnly) && (check.needs ?? []).every((source) => available.has(source)));
};

export const runChecks = (
  maintenance: DatabasePool,
  checks: readonly IntegrityCheck[],
  scope: IntegrityScope,
  outside?: IntegrityOutside,
): Promise<readonly CheckResult[]> =>
  maintenance.transaction(async (tx) => {
    await tx.query(sql.unsafe`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY`);
    // No JIT: the checks' large estimated costs made Postgres compile and optimise each query, up to
    // 1.8 s for one check at 1M leads, for scans that run once and take less than that.
    await tx.query(sql.unsafe`SET LOCAL jit = off`);
    const selected = checksForScope(checks, scope, outside);
    // The first query takes the snapshot: the listings below are all taken after it.
    const snapshotAt = new Date(await tx.oneFirst(sql.type(z.object({ now: z.number() }))`SELECT now() AS now`));
    const sources = await gatherSources(outside, selected, scope, snapshotAt);
    const results: CheckResult[] = [];
    for (const check of selected) {
      const started = performance.now();
      const findings = await check.find(tx, scope, sources);
      results.push({
        check: check.name,
        severity: check.severity,
        findings: findings.slice(0, MAX_FINDINGS_PER_CHECK),
        truncated: findings.length > MAX_FINDINGS_PER_CHECK,
        durationMs: Math.round(performance.now() - started),
      });
    }
    return results;
  });
