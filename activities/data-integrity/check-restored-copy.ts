// The weekly restore drill's integrity pass: the checks run on the restored copy (its own
// maintenance-role pool, one REPEATABLE READ snapshot like any run), summarised for the drill's
// record. The copy is dropped after the drill, so nothing is stored as an integrity run, planned or
// fixed: a backup whose data is damaged is a failed drill, with a reason a person can read.
import { createPool } from 'slonik';
import type { Config } from '../../core/config.ts';
import { SEVERITIES, type IntegrityCheck, type Severity } from '../../core/data-integrity/check.ts';
import { withDatabaseName } from '../../core/db/database-url.ts';
import { INTEGRITY_CHECKS } from './checks/index.ts';
import { runChecks } from './run-checks.ts';

/**
 * Checks of the live platform's state rather than of its data: on a copy they describe nothing
 * (a backup holds no rows of `backups` or `backup_drills`, so backup-age would always fire). Add
 * such checks here.
 */
export const LIVE_STATE_CHECKS: readonly string[] = ['backup-age'];

/** Critical findings listed in the drill's record (all are counted). */
const CRITICAL_LISTED = 20;

export type CopyIntegrity = {
  readonly checks: number;
  readonly findings: Record<Severity, number>;
  /** A check listed only its first 1,000 findings: the counts are lower bounds. */
  readonly truncated: boolean;
  readonly critical: readonly { check: string; key: string; summary: string }[];
  /** Why the drill fails (its critical findings, readable), or null. */
  readonly failure: string | null;
};

export const checkRestoredCopy = async (
  database: Config['database'], copy: string, checks: readonly IntegrityCheck[] = INTEGRITY_CHECKS,
): Promise<CopyIntegrity> => {
  const pool = await createPool(withDatabaseName(database.maintenanceUrl, copy), { maxPoolSize: 1, statementTimeout: database.statementTimeoutMs });
  try {
    const results = await runChecks(pool, checks.filter((check) => !LIVE_STATE_CHECKS.includes(check.name)), { tenantId: null });
    const findings = Object.fromEntries(SEVERITIES.map((severity) => [severity,
      results.filter((result) => result.severity === severity).reduce((sum, result) => sum + result.findings.length, 0)])) as Record<Severity, number>;
    const critical = results.filter((result) => result.severity === 'critical')
      .flatMap((result) => result.findings.map((finding) => ({ check: result.check, key: finding.key, summary: finding.summary })));
    return {
      checks: results.length,
      findings,
      truncated: results.some((result) => result.truncated),
      critical: critical.slice(0, CRITICAL_LISTED),
      failure: critical.length === 0 ? null
        : `the restored copy has ${findings.critical} critical integrity finding(s): ${critical.slice(0, 5).map((finding) => `${finding.check}: ${finding.summary}`).join('; ')}`,
    };
  } finally {
    await pool.end();
  }
};
