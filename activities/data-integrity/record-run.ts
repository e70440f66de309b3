// Stores a run, its findings and the fixes it plans (one per finding whose check has a fix that
// applies to it, unless an approval fix for the same defect still waits), in one transaction as the
// maintenance role, with an alert for each critical finding the previous run of the scope did not have,
// and the run's data-quality figures.
import { randomUUID } from 'node:crypto';
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
    // Ids made here, so all findings go in with one statement and all fixes with another: a
    // statement per finding cost 15 s for the 5,000 findings of the benchmark's defective run.
    const found = results.flatMap((result) => result.findings.map((finding) => ({ findingId: randomUUID(), result, finding })));
    await tx.query(sql.unsafe`
      INSERT INTO integrity_findings (id, run_id, check_name, severity, finding_key, affected_tenant_id, summary, details)
      SELECT r.id, ${runId}, r.check_name, r.severity, r.finding_key, r.affected_tenant_id, r.summary, r.details
        FROM jsonb_to_recordset(${sql.jsonb(found.map(({ findingId, result, finding }) => ({
          id: findingId, check_name: result.check, severity: result.severity, finding_key: finding.key,
          affected_tenant_id: finding.tenantId, summary: finding.summary, details: JSON.parse(JSON.stringify(finding.details)) as unknown,
        })))}) AS r(id uuid, check_name text, severity text, finding_key text, affected_tenant_id uuid, summary text, details jsonb)`);
    // A defect found again while its approval fix still waits keeps that one fix: no second request.
    const waiting = new Set(await tx.anyFirst(sql.type(z.object({ defect: z.string() }))`
      SELECT f.check_name || ' ' || f.finding_key AS defect
        FROM integrity_fixes x JOIN integrity_findings f ON f.id = x.finding_id JOIN integrity_runs r ON r.id = f.run_id
       WHERE r.scope = ${scopeName(scope)} AND x.class = 'approval' AND x.status = 'planned'`));
    const planned = found.flatMap(({ findingId, result, finding }) => {
      const fix = checks.find((check) => check.name === result.check)?.fix;
      if (fix === undefined || !fix.appliesTo(finding)) return [];
      if (fix.class === 'approval' && waiting.has(`${result.check} ${finding.key}`)) return [];
      if (fix.class === 'approval') waiting.add(`${result.check} ${finding.key}`);
      return [{ findingId, fix: { fixId: randomUUID(), check: result.check, class: fix.class, findingKey: finding.key } satisfies PlannedFix }];
    });
    await tx.query(sql.unsafe`
      INSERT INTO integrity_fixes (id, finding_id, class)
      SELECT r.id, r.finding_id, r.class FROM jsonb_to_recordset(${sql.jsonb(planned.map(({ findingId, fix }) => ({
        id: fix.fixId, finding_id: findingId, class: fix.class,
      })))}) AS r(id uuid, finding_id uuid, class text)`);
    const alerts = await alertNewCriticalFindings(tx, runId, scopeName(scope));
    await recordDataQuality(tx, runId, scope);
    return { runId, findings: found.length, fixes: planned.map(({ fix }) => fix), alerts };
  });
