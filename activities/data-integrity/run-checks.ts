// Runs the integrity checks on one consistent snapshot: a single REPEATABLE READ, READ ONLY
// transaction as bi_maintenance, so every finding describes the same instant and no check can write.
import { sql, type DatabasePool } from 'slonik';
import type { Finding, IntegrityCheck, IntegrityScope, Severity } from '../../core/data-integrity/check.ts';
import { MAX_FINDINGS_PER_CHECK } from '../../core/data-integrity/check.ts';

export type CheckResult = {
  readonly check: string;
  readonly severity: Severity;
  readonly findings: readonly Finding[];
  /** More findings existed than MAX_FINDINGS_PER_CHECK; only the first are listed. */
  readonly truncated: boolean;
  readonly durationMs: number;
};

export const checksForScope = (checks: readonly IntegrityCheck[], scope: IntegrityScope) =>
  checks.filter((check) => scope.tenantId === null || !check.platformOnly);

export const runChecks = (
  maintenance: DatabasePool,
  checks: readonly IntegrityCheck[],
  scope: IntegrityScope,
): Promise<readonly CheckResult[]> =>
  maintenance.transaction(async (tx) => {
    await tx.query(sql.unsafe`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY`);
    const results: CheckResult[] = [];
    for (const check of checksForScope(checks, scope)) {
      const started = performance.now();
      const findings = await check.find(tx, scope);
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
