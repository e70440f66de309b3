// Data-quality figures: per tenant, e-mail completeness and E.164 phone validity, counted with each
// integrity run and stored with it, shown beside the seeds' targets in GET /data-integrity/report
// and as data_quality_* gauges on /metrics.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { sql } from 'slonik';
import { z } from 'zod';
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
let first: TenantGraph;
let second: TenantGraph;
let tokenPool: Awaited<ReturnType<typeof createTokenAdminPool>>;
const s3 = createObjectStoreClient(config.s3);
let api: ReturnType<typeof createApp>;
let base: string;
let platformToken: string;

beforeAll(async () => {
  db = await createIntegrityDatabase(config);
  first = await seedTenant(db.withTenant);
  second = await seedTenant(db.withTenant);
  tokenPool = await createTokenAdminPool(db.database);
  api = createApp({
    config: { ...config, database: db.database }, pools: db.pools, tokenPool, withTenant: db.withTenant, logger: pino({ level: 'silent' }), s3,
    temporalHealthy: async () => true, temporal: async () => { throw new Error('no Temporal in this test'); },
  });
  const server = await api.start(0, '127.0.0.1');
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  platformToken = (await issueToken(tokenPool, { tenantId: null, name: 'data-quality', expiresAt: null, actor: 'test' }))!.token;
}, 120_000);
afterAll(async () => {
  await api?.stop();
  await tokenPool?.end();
  s3.destroy();
  await db?.drop();
});

const activities = () => createDataIntegrityActivities({ maintenancePool: db.pools.maintenance });
const report = async () => {
  const response = await fetch(`${base}/api/v1/data-integrity/report`, { headers: { authorization: `Bearer ${platformToken}` } });
  return { status: response.status, json: await response.json() as Record<string, unknown> };
};
const gauges = async () => (await (await fetch(`${base}/metrics`)).text()).split('\n').filter((line) => line.startsWith('data_quality_'));
const stored = (runId: string) => db.pools.maintenance.any(sql.type(z.object({ tenantId: z.uuid(), leads: z.number(), email: z.number(), phone: z.number() }))`
  SELECT measured_tenant_id AS "tenantId", leads, leads_with_email AS email, leads_with_valid_phone AS phone
    FROM integrity_data_quality WHERE run_id = ${runId} ORDER BY measured_tenant_id`);

describe('data-quality figures', () => {
  it('before any run: only the targets on /metrics', async () => {
    expect(await gauges()).toEqual(['data_quality_target_ratio{figure="email_completeness"} 0.95', 'data_quality_target_ratio{figure="phone_validity"} 0.98']);
  });

  it('are counted per tenant with each run, stored with it, and shown in the report and the gauges', async () => {
    // The second tenant: 4 more leads; one without e-mail and known only by its @lid, one without e-mail,
    // and one whose phone is no E.164 number (written while the format CHECK was off).
    const badPhoneLead = randomUUID();
    await db.asTenantOwner(second.tenantId, async (tx) => {
      await tx.query(sql.unsafe`
        INSERT INTO leads (tenant_id, bot_id, wa_id, lid, phone_e164, email) VALUES
          (${second.tenantId}, ${second.botId}, '12345678901234', '12345678901234', NULL, NULL),
          (${second.tenantId}, ${second.botId}, '5511988887777', NULL, '+5511988887777', NULL),
          (${second.tenantId}, ${second.botId}, '5511988886666', NULL, '+5511988886666', 'b@example.com')`);
      await tx.query(sql.unsafe`ALTER TABLE leads DROP CONSTRAINT leads_phone_e164_format`);
      await tx.query(sql.unsafe`INSERT INTO leads (id, tenant_id, bot_id, wa_id, phone_e164, email)
                                VALUES (${badPhoneLead}, ${second.tenantId}, ${second.botId}, '011988885555', '011988885555', 'c@example.com')`);
      await tx.query(sql.unsafe`ALTER TABLE leads ADD CONSTRAINT leads_phone_e164_format CHECK (phone_e164 ~ '^\\+[1-9]\\d{1,14}$') NOT VALID`);
    });
    try {
      const { runId } = await activities().integrityRunChecks({ scope: 'platform', workflowId: 'integrity/platform' });
      const counts = [
        { tenantId: first.tenantId, leads: 1, email: 1, phone: 1 },
        { tenantId: second.tenantId, leads: 5, email: 3, phone: 3 },
      ].sort((a, b) => a.tenantId.localeCompare(b.tenantId));
      expect(await stored(runId)).toEqual(counts);

      const { status, json } = await report();
      expect(status).toBe(200);
      expect(json['runId']).toBe(runId);
      const figures = (tenantId: string) => (tenantId === first.tenantId
        ? { tenantId, leads: 1, emailCompleteness: 1, phoneValidity: 1, meetsTargets: true }
        : { tenantId, leads: 5, emailCompleteness: 0.6, phoneValidity: 0.6, meetsTargets: false });
      expect(json['dataQuality']).toEqual({
        targets: { emailCompleteness: 0.95, phoneValidity: 0.98 },
        platform: { leads: 6, emailCompleteness: 4 / 6, phoneValidity: 4 / 6, meetsTargets: false },
        tenants: counts.map(({ tenantId }) => figures(tenantId)),
      });

      const lines = await gauges();
      expect(lines).toEqual(expect.arrayContaining([
        `data_quality_email_completeness_ratio{scope="platform"} ${4 / 6}`,
        `data_quality_email_completeness_ratio{scope="tenant-${first.tenantId}"} 1`,
        `data_quality_email_completeness_ratio{scope="tenant-${second.tenantId}"} 0.6`,
        `data_quality_phone_validity_ratio{scope="platform"} ${4 / 6}`,
        `data_quality_phone_validity_ratio{scope="tenant-${second.tenantId}"} 0.6`,
        'data_quality_target_ratio{figure="phone_validity"} 0.98',
      ]));
      expect(lines).toHaveLength(8);
    } finally {
      await db.asTenantOwner(second.tenantId, async (tx) => {
        await tx.query(sql.unsafe`DELETE FROM leads WHERE id = ${badPhoneLead}`);
        await tx.query(sql.unsafe`ALTER TABLE leads VALIDATE CONSTRAINT leads_phone_e164_format`);
      });
    }
  });

  it('a tenant run counts that tenant only', async () => {
    const { runId } = await activities().integrityRunChecks({ scope: `tenant-${first.tenantId}`, workflowId: `integrity/tenant-${first.tenantId}` });
    expect(await stored(runId)).toEqual([{ tenantId: first.tenantId, leads: 1, email: 1, phone: 1 }]);
  });
});
