// The data-quality figures of an integrity run (e-mail completeness and phone validity per tenant,
// beside the seeds' targets), read from integrity_data_quality: in the report, and as Prometheus
// gauges of the latest platform run, read at each scrape so every API replica reports the same.
import { Gauge, type Registry as MetricsRegistry } from 'prom-client';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { DATA_QUALITY_TARGETS, dataQualityOf, type DataQualityReport } from '../core/data-integrity/data-quality.ts';
import { scopeName } from '../core/data-integrity/scope.ts';

const countsRow = z.object({ tenantId: z.uuid(), leads: z.number(), withEmail: z.number(), withValidPhone: z.number() });

export const readDataQuality = async (maintenance: DatabasePool, runId: string): Promise<DataQualityReport> => {
  const rows = await maintenance.any(sql.type(countsRow)`
    SELECT measured_tenant_id AS "tenantId", leads, leads_with_email AS "withEmail", leads_with_valid_phone AS "withValidPhone"
      FROM integrity_data_quality WHERE run_id = ${runId} ORDER BY measured_tenant_id`);
  const total = (field: 'leads' | 'withEmail' | 'withValidPhone') => rows.reduce((sum, row) => sum + row[field], 0);
  return {
    targets: DATA_QUALITY_TARGETS,
    platform: dataQualityOf({ leads: total('leads'), withEmail: total('withEmail'), withValidPhone: total('withValidPhone') }),
    tenants: rows.map((row) => ({ tenantId: row.tenantId, ...dataQualityOf(row) })),
  };
};

/** The figures of the latest platform run; null before the first one. */
export const readLatestDataQuality = async (maintenance: DatabasePool): Promise<DataQualityReport | null> => {
  const runId = await maintenance.maybeOneFirst(sql.type(z.object({ id: z.uuid() }))`
    SELECT id FROM integrity_runs WHERE scope = 'platform' ORDER BY started_at DESC, id DESC LIMIT 1`);
  return runId === null ? null : readDataQuality(maintenance, runId);
};

/**
 * data_quality_email_completeness_ratio and data_quality_phone_validity_ratio by scope
 * (`platform`, and `tenant-<uuid>` for each tenant with leads), and the seeds' targets as
 * data_quality_target_ratio{figure}. The gauges of one scrape share one read; before
 * the first run, or when the database cannot be read, only the targets are served.
 */
export const registerDataQualityGauges = (registry: MetricsRegistry, read: () => Promise<DataQualityReport | null>) => {
  let pending: Promise<DataQualityReport | null> | null = null;
  const latest = () => {
    pending ??= read().catch(() => null).finally(() => (pending = null));
    return pending;
  };
  const byScope = (name: string, help: string, figure: 'emailCompleteness' | 'phoneValidity') => new Gauge({
    name, help, labelNames: ['scope'] as const, registers: [registry],
    async collect() {
      this.reset();
      const report = await latest();
      if (report === null) return;
      const scopes = [{ scope: 'platform', figures: report.platform }, ...report.tenants.map((tenant) => ({ scope: scopeName(tenant), figures: tenant }))];
      for (const { scope, figures } of scopes) if (figures[figure] !== null) this.set({ scope }, figures[figure]);
    },
  });
  byScope('data_quality_email_completeness_ratio', 'Share of leads with an e-mail address, at the latest platform integrity run', 'emailCompleteness');
  byScope('data_quality_phone_validity_ratio', 'Share of leads with a valid E.164 phone number, at the latest platform integrity run', 'phoneValidity');
  const targets = new Gauge({
    name: 'data_quality_target_ratio', help: 'The data-quality targets: a figure should stay above its target',
    labelNames: ['figure'] as const, registers: [registry],
  });
  targets.set({ figure: 'email_completeness' }, DATA_QUALITY_TARGETS.emailCompleteness);
  targets.set({ figure: 'phone_validity' }, DATA_QUALITY_TARGETS.phoneValidity);
};
