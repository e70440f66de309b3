// The platform integrity run in figures: GET /data-integrity/metrics, GET /data-integrity/health and
// the data_integrity_* gauges of /metrics, all read from the runs and findings tables, so two API
// replicas report the same figures.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { sql } from 'slonik';
import { createApp } from '../api/app.ts';
import { issueToken } from '../api/token-store.ts';
import { createDataIntegrityActivities } from '../activities/data-integrity/index.ts';
import { loadConfig } from '../core/config.ts';
import { createTokenAdminPool } from '../core/db/pools.ts';
import { createObjectStoreClient } from '../core/object-store.ts';
import { createIntegrityDatabase, type IntegrityDatabase } from './support/integrity-database.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

const config = loadConfig();
let db: IntegrityDatabase;
let tenant: TenantGraph;
let tokenPool: Awaited<ReturnType<typeof createTokenAdminPool>>;
const s3 = createObjectStoreClient(config.s3);
const apis: ReturnType<typeof createApp>[] = [];
const bases: string[] = [];
let platformToken: string;
let tenantToken: string;

beforeAll(async () => {
  db = await createIntegrityDatabase(config);
  tenant = await seedTenant(db.withTenant);
  tokenPool = await createTokenAdminPool(db.database);
  // Two replicas of the API over one database.
  for (let replica = 0; replica < 2; replica += 1) {
    const api = createApp({
      config: { ...config, database: db.database }, pools: db.pools, tokenPool, withTenant: db.withTenant, logger: pino({ level: 'silent' }), s3,
      temporalHealthy: async () => true, temporal: async () => { throw new Error('no Temporal in this test'); },
    });
    const server = await api.start(0, '127.0.0.1');
    apis.push(api);
    bases.push(`http://127.0.0.1:${(server.address() as { port: number }).port}`);
  }
  platformToken = (await issueToken(tokenPool, { tenantId: null, name: 'integrity-health', expiresAt: null, actor: 'test' }))!.token;
  tenantToken = (await issueToken(tokenPool, { tenantId: tenant.tenantId, name: 'integrity-health', expiresAt: null, actor: 'test' }))!.token;
});
afterAll(async () => {
  for (const api of apis) await api.stop();
  await tokenPool.end();
  s3.destroy();
  await db.drop();
});

const run = () => createDataIntegrityActivities({ maintenancePool: db.pools.maintenance }).integrityRunChecks({ scope: 'platform', workflowId: 'integrity/platform' });
const call = async (path: string, token = platformToken, base = bases[0]!) => {
  const response = await fetch(`${base}/api/v1/data-integrity${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, type: response.headers.get('content-type'), json: await response.json() as Record<string, unknown> };
};
/** The data_integrity_* lines of a replica's /metrics. */
const gauges = async (base = bases[0]!) =>
  (await (await fetch(`${base}/metrics`)).text()).split('\n').filter((line) => line.startsWith('data_integrity_'));
const gauge = (lines: string[], series: string) => lines.find((line) => line.startsWith(`${series} `))?.split(' ')[1];

describe('data-integrity metrics and health', () => {
  it('refuse tenant tokens', async () => {
    expect((await call('/metrics', tenantToken)).status).toBe(403);
    expect((await call('/health', tenantToken)).status).toBe(403);
  });

  it('before any run: no figures, unhealthy, no gauge series', async () => {
    expect(await call('/metrics')).toMatchObject({ status: 200, json: { latestRun: null } });
    const health = await call('/health');
    expect(health.status).toBe(503);
    expect(health.type).toContain('application/problem+json');
    expect(health.json).toMatchObject({ status: 503, title: 'Integrity unhealthy', detail: 'no platform integrity run yet' });
    // No findings series; the last success reads 0 (1970), so an age alert on it fires.
    expect(await gauges()).toEqual(['data_integrity_run_duration_seconds 0', 'data_integrity_last_success_timestamp_seconds 0']);
  });

  it('a clean run: healthy, every check at zero, the same on both replicas', async () => {
    const { runId } = await run();
    const figures = (await call('/metrics')).json['latestRun'] as { runId: string; startedAt: string; findings: { count: number }[] };
    expect(figures).toMatchObject({ runId, durationSeconds: expect.any(Number) });
    expect(figures.findings.length).toBeGreaterThanOrEqual(27);
    expect(figures.findings.every((row) => row.count === 0)).toBe(true);
    expect(await call('/health')).toMatchObject({ status: 200, json: { healthy: true, runId, ageSeconds: expect.any(Number) } });

    const lines = await gauges();
    expect(gauge(lines, 'data_integrity_findings{check="orphaned-rows",severity="critical"}')).toBe('0');
    expect(Number(gauge(lines, 'data_integrity_last_success_timestamp_seconds'))).toBe(Date.parse(figures.startedAt) / 1000);
    expect(gauge(lines, 'data_integrity_run_duration_seconds')).toBeDefined();
    expect(await gauges(bases[1])).toEqual(lines);
    expect((await call('/metrics', platformToken, bases[1])).json['latestRun']).toEqual(figures);
  });

  it('a critical finding: 503 naming it, and the gauge counts it on both replicas', async () => {
    await db.owner.query(sql.unsafe`ALTER TABLE leads DISABLE TRIGGER leads_audit`);
    try {
      const { runId } = await run();
      const health = await call('/health');
      expect(health).toMatchObject({ status: 503, json: { runId, critical: 1, detail: `the latest platform run ${runId} has 1 critical finding(s)` } });
      for (const base of bases) {
        expect(gauge(await gauges(base), 'data_integrity_findings{check="triggers-disabled",severity="critical"}')).toBe('1');
      }
    } finally {
      await db.owner.query(sql.unsafe`ALTER TABLE leads ENABLE TRIGGER leads_audit`);
    }
    await run();
    expect((await call('/health')).status).toBe(200);
    expect(gauge(await gauges(), 'data_integrity_findings{check="triggers-disabled",severity="critical"}')).toBe('0');
  });

  it('a latest run over 2 h old: 503', async () => {
    const { runId } = await run();
    await db.owner.query(sql.unsafe`UPDATE integrity_runs SET started_at = now() - interval '3 hours' WHERE id = ${runId}`);
    // Every other run is older still, so this one stays the latest.
    await db.owner.query(sql.unsafe`UPDATE integrity_runs SET started_at = now() - interval '4 hours' WHERE id <> ${runId}`);
    expect(await call('/health')).toMatchObject({ status: 503, json: { detail: `the latest platform run ${runId} is 180 min old (limit 120)` } });
  });
});
