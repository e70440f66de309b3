// The data-integrity benchmark: a full platform run (the runner with every check of
// INTEGRITY_CHECKS, then the recording of the run, its findings and planned fixes) over 1M leads and
// 10M messages across 100 tenants, on the clean database and after 1% planted defects, beside the
// floor: one bare `SELECT count(*)` over every tenant table in the same kind of snapshot.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createPool, sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { INTEGRITY_CHECKS } from '../activities/data-integrity/checks/index.ts';
import { recordRun } from '../activities/data-integrity/record-run.ts';
import { runChecks } from '../activities/data-integrity/run-checks.ts';
import type { Config } from '../core/config.ts';
import { withDatabaseName } from '../core/db/database-url.ts';
import { migrateUp } from '../core/db/migrations.ts';
import { recreateDatabase } from '../stack/databases.ts';
import { superuserClient } from '../stack/postgres.ts';
import { generateIntegrityData, plantIntegrityDefects, type IntegrityDataShape } from './integrity-data.ts';

const DATABASE = 'botinteligente_bench_integrity';
const TEMPLATE = `${DATABASE}_clean`;
const PLATFORM = { tenantId: null };
const MB = 1024 * 1024;
const round = (value: number, digits = 2) => Number(value.toFixed(digits));

/** Peak of a process's resident set (kB in /proc), shared buffers it touched included. */
const peakRssMb = (pid: number) => {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((entry) => entry.startsWith('VmHWM:'));
  return round(Number(line?.split(/\s+/)[1] ?? 0) / 1024, 1);
};

/** Samples this process's RSS while `work` runs. */
const sampledRss = async <T>(work: () => Promise<T>) => {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage.rss()); }, 10);
  try {
    const result = await work();
    return { result, peakRssMb: round(Math.max(peak, process.memoryUsage.rss()) / MB, 1) };
  } finally {
    clearInterval(timer);
  }
};

const tempBytes = (pool: DatabasePool) => pool.oneFirst(sql.type(z.object({ bytes: z.string() }))`
  SELECT temp_bytes::text AS bytes FROM pg_stat_database WHERE datname = current_database()`).then(Number);

/** The floor: count every row of every tenant table, on one REPEATABLE READ, READ ONLY snapshot. */
const countEveryTenantTable = (pool: DatabasePool) => pool.transaction(async (tx) => {
  await tx.query(sql.unsafe`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY`);
  const tables = await tx.anyFirst(sql.type(z.object({ table: z.string() }))`
    SELECT c.relname AS "table" FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relkind = 'r'
       AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
     ORDER BY 1`);
  let rows = 0;
  for (const table of tables) {
    rows += await tx.oneFirst(sql.type(z.object({ count: z.number() }))`SELECT count(*)::int AS count FROM ${sql.identifier(['public', table])}`);
  }
  return { tables: tables.length, rows };
});

/** One measured platform run on a fresh single-connection pool, so its backend's peak is the run's. */
const measureRun = async (database: Config['database'], label: string) => {
  const pool = await createPool(database.maintenanceUrl, { maxPoolSize: 1, statementTimeout: database.statementTimeoutMs });
  try {
    const backendPid = await pool.oneFirst(sql.type(z.object({ pid: z.number() }))`SELECT pg_backend_pid() AS pid`);
    const floorStarted = performance.now();
    const floor = await countEveryTenantTable(pool);
    const floorSeconds = (performance.now() - floorStarted) / 1000;
    const backendAfterFloorMb = peakRssMb(backendPid);
    const tempBefore = await tempBytes(pool);
    const workerRssBeforeMb = round(process.memoryUsage.rss() / MB, 1);
    const started = performance.now();
    const { result, peakRssMb: workerPeakRssMb } = await sampledRss(async () => {
      const results = await runChecks(pool, INTEGRITY_CHECKS, PLATFORM);
      const checksSeconds = (performance.now() - started) / 1000;
      const recorded = await recordRun(pool, INTEGRITY_CHECKS, PLATFORM, `bench-${label}`, results);
      return { results, recorded, checksSeconds };
    });
    const totalSeconds = (performance.now() - started) / 1000;
    const checksMs = result.results.reduce((sum, check) => sum + check.durationMs, 0);
    return {
      floor: { ...floor, seconds: round(floorSeconds) },
      totalSeconds: round(totalSeconds),
      checksSeconds: round(result.checksSeconds),
      recordSeconds: round(totalSeconds - result.checksSeconds),
      runVersusFloor: round(totalSeconds / floorSeconds),
      findings: result.recorded.findings,
      plannedFixes: result.recorded.fixes.length,
      checks: result.results.map((check) => ({
        check: check.check,
        seconds: round(check.durationMs / 1000, 3),
        sharePercent: round((100 * check.durationMs) / Math.max(1, checksMs), 1),
        findings: check.findings.length,
        truncated: check.truncated,
      })),
      memory: {
        workerRssBeforeMb,
        workerPeakRssMb,
        postgresBackendPeakRssMb: peakRssMb(backendPid),
        postgresBackendPeakRssAfterFloorMb: backendAfterFloorMb,
        postgresTempFileMb: round(((await tempBytes(pool)) - tempBefore) / MB, 1),
      },
    };
  } finally {
    await pool.end();
  }
};

export const withName = (base: Config, name: string) => ({
  ...base.database,
  appUrl: withDatabaseName(base.database.appUrl, name),
  maintenanceUrl: withDatabaseName(base.database.maintenanceUrl, name),
  migrationUrl: withDatabaseName(base.database.migrationUrl, name),
});

export const migrate = (database: Config['database']) =>
  migrateUp({ url: database.migrationUrl, directory: fileURLToPath(new URL('../migrations', import.meta.url)), log: () => undefined });

/** Generates the clean data set into `name` (recreated), returning how long it took. */
const generate = async (base: Config, name: string, log: (message: string) => void, shape: IntegrityDataShape) => {
  await recreateDatabase(base.database.migrationUrl, name);
  await migrate(withName(base, name));
  const superuser = superuserClient(base, name);
  await superuser.connect();
  try {
    log(`integrity: generating ${shape.tenants * shape.leadsPerTenant} leads, ${shape.tenants * shape.leadsPerTenant * shape.messagesPerLead} messages, ${shape.tenants} tenants`);
    const started = performance.now();
    await generateIntegrityData(superuser, shape, log);
    await superuser.query('VACUUM ANALYZE');
    const seconds = (performance.now() - started) / 1000;
    // The shape the data was generated with, for a later run to reuse it (below).
    await superuser.query(`COMMENT ON DATABASE ${superuser.escapeIdentifier(name)} IS ${superuser.escapeLiteral(JSON.stringify(shape))}`);
    return seconds;
  } finally {
    await superuser.end();
  }
};

/**
 * With `reuse`, the clean data set is generated once into a template database that is kept (its
 * comment records the shape), and each run works on a file copy of it (seconds, not minutes), with
 * the migrations added since applied. Drop the template after changing the generator.
 */
const cleanDatabase = async (base: Config, log: (message: string) => void, shape: IntegrityDataShape, reuse: boolean) => {
  if (!reuse) return generate(base, DATABASE, log, shape);
  const server = await createPool(withDatabaseName(base.database.migrationUrl, 'postgres'), { maxPoolSize: 1 });
  try {
    const comment = await server.maybeOneFirst(sql.type(z.object({ comment: z.string().nullable() }))`
      SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = ${TEMPLATE}`);
    let generationSeconds: number | null = null;
    if (comment !== JSON.stringify(shape)) {
      generationSeconds = await generate(base, TEMPLATE, log, shape);
    } else {
      log(`integrity: reusing the generated data of ${TEMPLATE}`);
    }
    await server.query(sql.unsafe`DROP DATABASE IF EXISTS ${sql.identifier([DATABASE])} WITH (FORCE)`);
    await server.query(sql.unsafe`CREATE DATABASE ${sql.identifier([DATABASE])} TEMPLATE ${sql.identifier([TEMPLATE])} STRATEGY FILE_COPY`);
    await migrate(withName(base, DATABASE));
    return generationSeconds;
  } finally {
    await server.end();
  }
};

export const runIntegrityBench = async (base: Config, log: (message: string) => void, shape: IntegrityDataShape, reuse = false) => {
  const database = withName(base, DATABASE);
  const generationSeconds = await cleanDatabase(base, log, shape, reuse);
  const superuser = superuserClient(base, DATABASE);
  await superuser.connect();
  try {
    // ANALYZE after a copy or new migrations: their indexes get statistics before the measured run.
    await superuser.query('ANALYZE');
    const sizeMb = round(Number((await superuser.query('SELECT pg_database_size(current_database()) AS bytes')).rows[0].bytes) / MB, 0);
    log('integrity: platform run on the clean database');
    const clean = await measureRun(database, 'clean');
    log('integrity: planting 1% defects');
    await plantIntegrityDefects(superuser, shape);
    await superuser.query('ANALYZE');
    log('integrity: platform run on the defective database');
    const defective = await measureRun(database, 'defective');
    return {
      shape: {
        ...shape,
        leads: shape.tenants * shape.leadsPerTenant,
        messages: shape.tenants * shape.leadsPerTenant * shape.messagesPerLead,
        databaseMb: sizeMb,
        generationSeconds: generationSeconds === null ? null : round(generationSeconds, 0),
      },
      checks: INTEGRITY_CHECKS.length,
      clean,
      defective,
    };
  } finally {
    await superuser.end();
    const server = await createPool(withDatabaseName(base.database.migrationUrl, 'postgres'), { maxPoolSize: 1 });
    await server.query(sql.unsafe`DROP DATABASE IF EXISTS ${sql.identifier([DATABASE])} WITH (FORCE)`);
    await server.end();
  }
};

export const printIntegrity = (result: Awaited<ReturnType<typeof runIntegrityBench>>) => {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const { shape, clean, defective } = result;
  out(`integrity: ${shape.leads} leads, ${shape.messages} messages, ${shape.tenants} tenants (${shape.databaseMb} MB), ${result.checks} checks`);
  out('check | clean s | share % | defective s | share % | findings');
  clean.checks.forEach((check, index) => {
    const other = defective.checks[index]!;
    out(`${check.check} | ${check.seconds} | ${check.sharePercent} | ${other.seconds} | ${other.sharePercent} | ${check.findings} / ${other.findings}${other.truncated ? '+' : ''}`);
  });
  for (const [name, run] of [['clean', clean], ['defective', defective]] as const) {
    out(`${name}: run ${run.totalSeconds} s (checks ${run.checksSeconds} s, record ${run.recordSeconds} s), floor count(*) ${run.floor.seconds} s over ${run.floor.rows} rows (x${run.runVersusFloor}); `
      + `${run.findings} findings, ${run.plannedFixes} fixes planned; peak RSS worker ${run.memory.workerPeakRssMb} MB (${run.memory.workerRssBeforeMb} MB before), Postgres backend ${run.memory.postgresBackendPeakRssMb} MB, temp files ${run.memory.postgresTempFileMb} MB`);
  }
};
