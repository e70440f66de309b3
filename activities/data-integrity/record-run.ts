// Stores a run, its findings and the fixes it plans (one per finding whose check has a fix that
// applies to it), in one transaction as the maintenance role.
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import type { IntegrityCheck, IntegrityScope } from '../../core/data-integrity/check.ts';
import { scopeName } from '../../core/data-integrity/scope.ts';
import type { PlannedFix, RecordedRun } from '../../core/temporal/data-integrity.ts';
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
      INSERT INTO integrity_runs (scope, tenant_id, workflow_id, checks) VALUES (${scopeName(scope)}, ${scope.tenantId}, ${workflowId}, ${sql.jsonb(summary)})
      RETURNING id`);
    const fixes: PlannedFix[] = [];
    let findings = 0;
    for (const result of results) {
      const fix = checks.find((check) => check.name === result.check)?.fix;
      for (const finding of result.findings) {
        findings += 1;
        const findingId = await tx.oneFirst(sql.type(id)`
          INSERT INTO integrity_findings (run_id, check_name, severity, finding_key, tenant_id, summary, details)
          VALUES (${runId}, ${result.check}, ${result.severity}, ${finding.key}, ${finding.tenantId}, ${finding.summary}, ${sql.jsonb(JSON.parse(JSON.stringify(finding.details)))})
          RETURNING id`);
        if (fix === undefined || !fix.appliesTo(finding)) continue;
        const fixId = await tx.oneFirst(sql.type(id)`
          INSERT INTO integrity_fixes (finding_id, tenant_id, class) VALUES (${findingId}, ${finding.tenantId}, ${fix.class}) RETURNING id`);
        fixes.push({ fixId, check: result.check, class: fix.class, findingKey: finding.key });
      }
    }
    return { runId, findings, fixes };
  });
