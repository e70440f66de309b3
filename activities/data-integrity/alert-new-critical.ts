// Raises `integrity.critical_finding` for each critical finding of a run that the previous run of the
// same scope did not have: a persisting defect is alerted once, one that goes and comes back again.
// Inside the run's recording transaction, so the alerts commit with the run (a retried activity that
// rolled back raises nothing twice).
import { sql, type DatabaseTransactionConnection } from 'slonik';
import { z } from 'zod';
import { alertEach } from '../platform-events.ts';

export const CRITICAL_FINDING_EVENT = 'integrity.critical_finding';

const newFinding = z.object({
  findingId: z.uuid(), check: z.string(), key: z.string(), affectedTenantId: z.uuid().nullable(), summary: z.string(),
});

/** Resolves with the ids of the findings alerted, for the alert webhook (./alert-webhook.ts). */
export const alertNewCriticalFindings = async (tx: DatabaseTransactionConnection, runId: string, scope: string): Promise<string[]> => {
  // A check whose previous list was truncated may have had the finding unlisted: not called new.
  const fresh = await tx.any(sql.type(newFinding)`
    WITH previous AS (
      SELECT id, checks FROM integrity_runs WHERE scope = ${scope} AND id <> ${runId} ORDER BY started_at DESC, id LIMIT 1)
    SELECT f.id AS "findingId", f.check_name AS "check", f.finding_key AS "key",
           f.affected_tenant_id AS "affectedTenantId", f.summary
      FROM integrity_findings f
     WHERE f.run_id = ${runId} AND f.severity = 'critical'
       AND NOT EXISTS (SELECT 1 FROM previous p JOIN integrity_findings o
                          ON o.run_id = p.id AND o.check_name = f.check_name AND o.finding_key = f.finding_key)
       AND NOT EXISTS (SELECT 1 FROM previous p WHERE coalesce((p.checks -> f.check_name ->> 'truncated')::boolean, false))
     ORDER BY f.check_name, f.finding_key`);
  // In two statements: a run may bring thousands (one statement per alert cost seconds).
  if (fresh.length > 0) await alertEach(tx, CRITICAL_FINDING_EVENT, 'data-integrity', fresh.map((finding) => ({ runId, scope, ...finding })));
  return fresh.map((finding) => finding.findingId);
};
