// The figures of the latest platform integrity run (findings by check and severity, duration, when
// it ran), read from the runs and findings tables on every request or scrape, never from process
// memory: every API replica reports the same. Served as JSON and as Prometheus gauges.
import { Gauge, type Registry as MetricsRegistry } from 'prom-client';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { SEVERITIES } from '../core/data-integrity/check.ts';

const latestRun = z.object({ id: z.uuid(), started_at: z.number(), checks: z.record(z.string(), z.object({ durationMs: z.number() }).loose()) });
const count = z.object({ check_name: z.string(), severity: z.enum(SEVERITIES), count: z.number() });

export const integrityFigures = z.object({
  runId: z.uuid(),
  startedAt: z.string(),
  /** Time spent in the checks of the run (the sum of their durations). */
  durationSeconds: z.number(),
  /** Every check of the run with every severity, zero included, so a cleared finding reads 0. */
  findings: z.array(z.object({ check: z.string(), severity: z.enum(SEVERITIES), count: z.number() })),
});
export type IntegrityFigures = z.infer<typeof integrityFigures>;

/** Null before the first platform run. A run is stored only once all its checks ran: it succeeded. */
export const readIntegrityFigures = async (maintenance: DatabasePool): Promise<IntegrityFigures | null> => {
  const run = await maintenance.maybeOne(sql.type(latestRun)`
    SELECT id, started_at, checks FROM integrity_runs WHERE scope = 'platform' ORDER BY started_at DESC, id DESC LIMIT 1`);
  if (run === null) return null;
  const counts = await maintenance.any(sql.type(count)`
    SELECT check_name, severity, count(*)::int AS count FROM integrity_findings WHERE run_id = ${run.id} GROUP BY check_name, severity`);
  const checks = [...new Set([...Object.keys(run.checks), ...counts.map((row) => row.check_name)])].sort();
  return {
    runId: run.id,
    startedAt: new Date(run.started_at).toISOString(),
    durationSeconds: Object.values(run.checks).reduce((sum, check) => sum + check.durationMs, 0) / 1000,
    findings: checks.flatMap((check) => SEVERITIES.map((severity) => ({
      check, severity, count: counts.find((row) => row.check_name === check && row.severity === severity)?.count ?? 0,
    }))),
  };
};

export const criticalFindings = (figures: IntegrityFigures) =>
  figures.findings.filter((row) => row.severity === 'critical').reduce((sum, row) => sum + row.count, 0);

/**
 * Gauges set from the tables at each scrape; the gauges of one scrape share one read. Before the
 * first run, or when the database cannot be read, there is no findings series and the duration and
 * last success read 0 (so an alert on the age of the last success fires); the API's other metrics
 * are still served.
 */
export const registerIntegrityGauges = (registry: MetricsRegistry, read: () => Promise<IntegrityFigures | null>) => {
  let pending: Promise<IntegrityFigures | null> | null = null;
  const figures = () => {
    pending ??= read().catch(() => null).finally(() => (pending = null));
    return pending;
  };
  const single = (name: string, help: string, value: (latest: IntegrityFigures) => number) => new Gauge({
    name, help, registers: [registry],
    async collect() {
      this.reset();
      const latest = await figures();
      if (latest !== null) this.set(value(latest));
    },
  });
  return {
    findings: new Gauge({
      name: 'data_integrity_findings', help: 'Findings of the latest platform integrity run, by check and severity',
      labelNames: ['check', 'severity'] as const, registers: [registry],
      async collect() {
        this.reset();
        for (const row of (await figures())?.findings ?? []) this.set({ check: row.check, severity: row.severity }, row.count);
      },
    }),
    duration: single('data_integrity_run_duration_seconds', 'Time spent in the checks of the latest platform integrity run', (latest) => latest.durationSeconds),
    lastSuccess: single('data_integrity_last_success_timestamp_seconds', 'Start of the latest platform integrity run that completed (Unix seconds)',
      (latest) => Date.parse(latest.startedAt) / 1000),
  };
};
