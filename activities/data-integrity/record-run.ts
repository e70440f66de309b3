// Stores a run, its findings and the fixes it plans (one per finding whose check has a fix that
// applies to it, unless an approval fix for the same defect still waits), in one transaction as the
// maintenance role, with an alert for each critical finding the previous run of the scope did not have,
// and the run's data-quality figures.
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import type { IntegrityCheck, IntegrityScope } from '../../core/data-integrity/check.ts';
import { scopeName } from '../../core/data-integrity/scope.ts';
import type { PlannedFix, RecordedRun } from '../../core/temporal/data-integrity.ts';
import { alertNewCriticalFindings } from './alert-new-critical.ts';
import { recordDataQuality } from './record-data-quality.ts';
import type { CheckResult } from './run-checks.ts';

const id = z.object({ id: z.uuid() });

export const recordRun = (
  maintenance: DatabasePool,
  checks: readonly IntegrityCheck[],
  scope: IntegrityScope,
  workflowId: string,
  results: readonly CheckResult[],
): Promise<RecordedRun> =>
  maintenance.transaction(async (tx) => {
    const summary = Object.fromEntries(results.map((result) => [result.check, {
      durationMs: result.durationMs, findings: result.findings.length, truncated: result.truncated,
    }]));
    const runId = await tx.oneFirst(sql.type(id)`
      INSERT INTO integrity_runs (scope, scope_tenant_id, workflow_id, checks) VALUES (${scopeName(scope)}, ${scope.tenantId}, ${workflowId}, ${sql.jsonb(summary)})
      RETURNING id`);
    const fixes: PlannedFix[] = [];
    let findings = 0;
    for (const result of results) {
      const fix = checks.find((check) => check.name === result.check)?.fix;
      for (const finding of result.findings) {
        findings += 1;
        const findingId = await tx.oneFirst(sql.type(id)`
          INSERT INTO integrity_findings (run_id, check_name, severity, finding_key, affected_tenant_id, summary, details)
          VALUES (${runId}, ${result.check}, ${result.severity}, ${finding.key}, ${finding.tenantId}, ${finding.summary}, ${sql.jsonb(JSON.parse(JSON.stringify(finding.details)))})
          RETURNING id`);
        if (fix === undefined || !fix.appliesTo(finding)) continue;
        // A defect found again while its approval fix still waits keeps that one fix: no second request.
        if (fix.class === 'approval' && await tx.exists(sql.unsafe`
          SELECT 1 FROM integrity_fixes x JOIN integrity_findings f ON f.id = x.finding_id JOIN integrity_runs r ON r.id = f.run_id
           WHERE r.scope = ${scopeName(scope)} AND f.check_name = ${result.check} AND f.finding_key = ${finding.key}
             AND x.class = 'approval' AND x.status = 'planned'`)) continue;
        const fixId = await tx.oneFirst(sql.type(id)`
          INSERT INTO integrity_fixes (finding_id, class) VALUES (${findingId}, ${fix.class}) RETURNING id`);
        fixes.push({ fixId, check: result.check, class: fix.class, findingKey: finding.key });
      }
    }
    const alerts = await alertNewCriticalFindings(tx, runId, scopeName(scope));
    await recordDataQuality(tx, runId, scope);
    return { runId, findings, fixes, alerts };
  });
