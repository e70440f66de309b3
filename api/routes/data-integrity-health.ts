// The platform integrity run in figures, for platform admins: the same numbers as the Prometheus
// gauges (as JSON), and a health verdict for probes: a recent run with no critical finding.
import { z } from 'zod';
import { criticalFindings, integrityFigures, readIntegrityFigures, registerIntegrityGauges } from '../data-integrity-figures.ts';
import type { ApiDeps } from '../deps.ts';
import type { ApiMetrics } from '../metrics.ts';
import { HttpProblem } from '../problem.ts';
import type { Registry } from '../route.ts';

/** The hourly run plus an hour's slack: older, the Schedule or the worker is not running. */
export const INTEGRITY_HEALTHY_MAX_AGE_MS = 2 * 60 * 60 * 1000;

export const registerDataIntegrityHealthRoutes = (registry: Registry, deps: ApiDeps, metrics: ApiMetrics) => {
  const read = () => readIntegrityFigures(deps.pools.maintenance);
  registerIntegrityGauges(metrics.registry, read);

  registry.add({
    method: 'get', path: '/data-integrity/metrics', summary: 'The latest platform integrity run in figures (the data_integrity_* gauges as JSON)',
    tag: 'data-integrity', access: 'platform-admin', response: z.object({ latestRun: integrityFigures.nullable() }),
  }, async () => ({ latestRun: await read() }));

  registry.add({
    method: 'get', path: '/data-integrity/health', summary: 'Healthy when the latest platform integrity run is under 2 h old and found nothing critical (503 otherwise)',
    tag: 'data-integrity', access: 'platform-admin',
    response: z.object({ healthy: z.literal(true), runId: z.uuid(), startedAt: z.string(), ageSeconds: z.number() }),
    problems: { 503: 'Unhealthy: no platform integrity run yet, the latest is over 2 h old, or it has critical findings' },
  }, async () => {
    const latest = await read();
    if (latest === null) throw new HttpProblem(503, 'Integrity unhealthy', 'no platform integrity run yet');
    const ageMs = Date.now() - Date.parse(latest.startedAt);
    const critical = criticalFindings(latest);
    const problems = [
      ...(ageMs > INTEGRITY_HEALTHY_MAX_AGE_MS ? [`the latest platform run ${latest.runId} is ${Math.round(ageMs / 60_000)} min old (limit 120)`] : []),
      ...(critical > 0 ? [`the latest platform run ${latest.runId} has ${critical} critical finding(s)`] : []),
    ];
    if (problems.length > 0) throw new HttpProblem(503, 'Integrity unhealthy', problems.join('; '), { runId: latest.runId, critical });
    return { healthy: true as const, runId: latest.runId, startedAt: latest.startedAt, ageSeconds: Math.round(ageMs / 1000) };
  });
};
