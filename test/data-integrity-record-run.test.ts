// Recording a run with the most findings a run can have: the statements do not grow with the
// findings or their alerts (a statement per finding and two per alert cost 15 s for the
// benchmark's 5,000 findings), every fix is stored against its own finding, every new critical
// finding is alerted once.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createPool, sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { recordRun } from '../activities/data-integrity/record-run.ts';
import type { CheckResult } from '../activities/data-integrity/run-checks.ts';
import type { IntegrityCheck } from '../core/data-integrity/check.ts';
import { MAX_FINDINGS_PER_CHECK } from '../core/data-integrity/check.ts';
import { loadConfig } from '../core/config.ts';
import { createIntegrityDatabase, type IntegrityDatabase } from './support/integrity-database.ts';

const config = loadConfig();
let db: IntegrityDatabase;
let counted: DatabasePool;
let statements = 0;

beforeAll(async () => {
  db = await createIntegrityDatabase(config);
  counted = await createPool(db.database.maintenanceUrl, {
    interceptors: [{ name: 'count-statements', beforeQueryExecution: () => { statements += 1; return null; } }],
  });
});
afterAll(async () => {
  await counted?.end();
  await db?.drop();
});

const check = (name: string, fixClass: 'auto' | 'approval' | null): IntegrityCheck => ({
  name, severity: 'critical', description: name, platformOnly: false, find: async () => [],
  ...fixClass === null ? {} : { fix: { class: fixClass, description: 'test', appliesTo: (finding) => finding.details.fixable === true, apply: async () => undefined } },
});
const CHECKS = [check('with-auto-fix', 'auto'), check('with-approval-fix', 'approval'), check('without-fix', null)];
const results = (): CheckResult[] => CHECKS.map((entry) => ({
  check: entry.name, severity: entry.severity, truncated: false, durationMs: 1,
  findings: Array.from({ length: MAX_FINDINGS_PER_CHECK }, (_, n) => ({
    key: `row-${n}`, tenantId: null, summary: `${entry.name} row ${n}`, details: { n, fixable: n % 2 === 0 },
  })),
}));

const stored = z.object({ check: z.string(), key: z.string(), fixClass: z.string().nullable() });

describe('recording a run', () => {
  it('takes the same few statements for 3,000 findings, and stores each fix with its finding', async () => {
    statements = 0;
    const run = await recordRun(counted, CHECKS, { tenantId: null }, 'integrity/platform', results());
    expect(statements).toBeLessThanOrEqual(10);
    expect(run.findings).toBe(3 * MAX_FINDINGS_PER_CHECK);
    expect(run.fixes).toHaveLength(MAX_FINDINGS_PER_CHECK);
    const rows = await db.pools.maintenance.any(sql.type(stored)`
      SELECT f.check_name AS "check", f.finding_key AS key, x.class AS "fixClass"
        FROM integrity_findings f LEFT JOIN integrity_fixes x ON x.finding_id = f.id WHERE f.run_id = ${run.runId}`);
    expect(rows).toHaveLength(3 * MAX_FINDINGS_PER_CHECK);
    const fixOf = new Map(rows.map((row) => [`${row.check} ${row.key}`, row.fixClass]));
    for (const fix of run.fixes) expect(fixOf.get(`${fix.check} ${fix.findingKey}`)).toBe(fix.class);
    expect(rows.filter((row) => row.fixClass !== null).map((row) => Number(row.key.slice(4)) % 2)).toEqual(Array(MAX_FINDINGS_PER_CHECK).fill(0));
    const alerts = await db.pools.maintenance.any(sql.type(z.object({ key: z.string(), audited: z.boolean() }))`
      SELECT e.payload ->> 'check' || ' ' || (e.payload ->> 'key') AS key,
             EXISTS (SELECT 1 FROM audit_logs a WHERE a.action = e.kind AND a.details = e.payload) AS audited
        FROM platform_events e WHERE e.kind = 'integrity.critical_finding' AND e.payload ->> 'runId' = ${run.runId} ORDER BY e.sequence`);
    expect(alerts.map((entry) => entry.key)).toEqual([...fixOf.keys()].sort());
    expect(alerts.every((entry) => entry.audited)).toBe(true);

    // The next run plans the auto fixes again but not the approval fixes that still wait.
    const next = await recordRun(counted, CHECKS, { tenantId: null }, 'integrity/platform', results());
    expect(next.fixes.map((fix) => fix.check)).toEqual(Array(MAX_FINDINGS_PER_CHECK / 2).fill('with-auto-fix'));
  }, 60_000);
});
