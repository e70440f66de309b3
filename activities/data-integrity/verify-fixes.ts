// A fix is done only when its finding is gone: re-runs the checks the applied fixes belong to
// (on a fresh snapshot) and marks each fix verified, or failed when its finding is still there.
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import type { IntegrityCheck, IntegrityScope } from '../../core/data-integrity/check.ts';
import type { FixOutcome } from '../../core/temporal/data-integrity.ts';
import { runChecks } from './run-checks.ts';
import type { IntegrityOutside } from './sources/index.ts';

const appliedFix = z.object({ fixId: z.uuid(), checkName: z.string(), findingKey: z.string() });

export const verifyFixes = async (
  maintenance: DatabasePool,
  checks: readonly IntegrityCheck[],
  scope: IntegrityScope,
  fixIds: readonly string[],
  outside?: IntegrityOutside,
): Promise<FixOutcome[]> => {
  const fixes = await maintenance.any(sql.type(appliedFix)`
    SELECT x.id AS "fixId", f.check_name AS "checkName", f.finding_key AS "findingKey"
      FROM integrity_fixes x JOIN integrity_findings f ON f.id = x.finding_id
     WHERE x.id = ANY(${sql.array([...fixIds], 'uuid')}) AND x.status = 'applied'`);
  const names = new Set(fixes.map((fix) => fix.checkName));
  const results = await runChecks(maintenance, checks.filter((check) => names.has(check.name)), scope, outside);
  const stillFound = new Set(results.flatMap((result) => result.findings.map((finding) => `${result.check}\n${finding.key}`)));
  const outcomes: FixOutcome[] = [];
  for (const fix of fixes) {
    const gone = !stillFound.has(`${fix.checkName}\n${fix.findingKey}`);
    const failure = gone ? null : 'the finding is still present after the fix';
    await maintenance.query(sql.unsafe`
      UPDATE integrity_fixes SET status = ${gone ? 'verified' : 'failed'}, verified_at = CASE WHEN ${gone} THEN now() END, failure = ${failure}
       WHERE id = ${fix.fixId} AND status = 'applied'`);
    outcomes.push({ fixId: fix.fixId, status: gone ? 'verified' : 'failed', failure });
  }
  return outcomes;
};
