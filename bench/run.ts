// `npm run bench`: scoring alone, then the lead pipeline end to end beside the engine floor, on the
// local stack. Writes bench/results/latest.json and prints a table. A measurement, not a test.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'slonik';
import { loadConfig, loadConfigOrExit } from '../core/config.ts';
import { createDatabasePools } from '../core/db/pools.ts';
import { migrateUp } from '../core/db/migrations.ts';
import { createWithTenant } from '../core/db/with-tenant.ts';
import { connectTemporalClient } from '../core/temporal/client.ts';
import { recreateDatabase, withDatabaseName } from '../stack/databases.ts';
import { startStack } from '../stack/harness.ts';
import { servicePid } from '../stack/processes.ts';
import { terminateRunningWorkflows } from '../stack/workflows.ts';
import { startBotPod } from '../test/support/bot-pod.ts';
import { processGroup } from '../test/support/processes.ts';
import { seedTenant } from '../test/support/tenant-fixture.ts';
import { historySizeOfRun, type HistorySize } from './history-size.ts';
import { messagePhasesOfRun, type MessagePhases, type PhasesSummary } from './message-phases.ts';
import { burst, messagesFor, paced, type BenchMessage, type LoadResult, type Target } from './load.ts';
import { processCpuSeconds, processTreeCpuSeconds, startCpuMeasure, type CpuPerMessage, type CpuSources } from './process-cpu.ts';
import { runApiLeadsBench } from './api-leads.ts';
import { runBackupBench } from './backup.ts';
import { runDensityBench } from './density.ts';
import { runEmailSequenceBench } from './email-sequences.ts';
import { printIntegrity, runIntegrityBench } from './integrity.ts';
import { runOutboxBench } from './outbox.ts';
import { runPodRssBench } from './pod-rss.ts';
import { printRetention, runRetentionBench } from './retention.ts';
import { runTenantIsolationBench } from './tenant-isolation.ts';
import { benchRules, runScoringBench, SAMPLE_TEXTS } from './scoring.ts';
import { runScoringIsolationBench } from './scoring-isolation.ts';
import { FLOOR_TASK_QUEUE } from './floor/activities.ts';
import { floorTarget, platformTarget } from './targets.ts';
import { writeLatest } from './write-latest.ts';

const BENCH_DATABASE = 'botinteligente_bench';
const ALL_SCENARIOS = [
  { leads: 1, burstMessages: 150 },
  { leads: 100, burstMessages: 1_000 },
  { leads: 1_000, burstMessages: 2_000 },
];
/** `npm run bench -- --leads=1,100` runs only those scenarios. */
const leadsFlag = process.argv.find((arg) => arg.startsWith('--leads='));
const SCENARIOS = leadsFlag
  ? ALL_SCENARIOS.filter(({ leads }) => leadsFlag.slice('--leads='.length).split(',').map(Number).includes(leads))
  : ALL_SCENARIOS;
/** `npm run bench -- --only=api,pods` runs only those sections (scoring, outbox, pipeline, isolation, api, pods, density, email, integrity, retention, backup). */
type Section = 'scoring' | 'outbox' | 'pipeline' | 'isolation' | 'api' | 'pods' | 'density' | 'email' | 'integrity' | 'retention' | 'backup';
/** `--backup-mb=200`: a smaller generated database for the backup section (default 1 GB). */
const backupMb = Number(process.argv.find((arg) => arg.startsWith('--backup-mb='))?.slice('--backup-mb='.length) ?? 1024);
const onlyFlag = process.argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length).split(',');
const selected = (section: Section) => !onlyFlag || onlyFlag.includes(section);
/** `--integrity-leads=100000`: fewer leads per tenant for the integrity section (default 1M over 100 tenants). */
const integrityLeads = Number(process.argv.find((arg) => arg.startsWith('--integrity-leads='))?.slice('--integrity-leads='.length) ?? 1_000_000);
/** `--integrity-reuse`: keep the generated clean data (a template database) and reuse it in later runs. */
const integrityReuse = process.argv.includes('--integrity-reuse');
/** `--retention-messages=100000`: fewer expired messages for the retention section (default 1M). */
const retentionMessages = Number(process.argv.find((arg) => arg.startsWith('--retention-messages='))?.slice('--retention-messages='.length) ?? 1_000_000);
/** `--api-rounds=5`: rounds of the API section's maximum-throughput runs (default 3; the median is reported). */
const apiRounds = Number(process.argv.find((arg) => arg.startsWith('--api-rounds='))?.slice('--api-rounds='.length) ?? 3);
/** `--paced-rate=13`: the latency runs at this rate instead of half the platform's maximum (a rehearsal: partial.json only). */
const pacedRateFlag = process.argv.find((arg) => arg.startsWith('--paced-rate='))?.slice('--paced-rate='.length);
if (pacedRateFlag !== undefined && !(Number(pacedRateFlag) > 0)) {
  process.stderr.write(`--paced-rate must be a positive number of messages a second, not "${pacedRateFlag}"\n`);
  process.exit(2);
}
/** Smaller sizes than the targets name are a rehearsal: their figures go to partial.json only. */
const reducedSizes = leadsFlag !== undefined || pacedRateFlag !== undefined || backupMb !== 1024 || integrityLeads !== 1_000_000 || retentionMessages !== 1_000_000;
/**
 * The paced run's size: at least this many messages, so that its p99 leaves out the four slowest
 * (with fewer than 100, the p99 was the slowest message alone), and at least this long.
 */
const PACED_MIN_MESSAGES = 400;
const PACED_SECONDS = 8;

/** `npm run bench -- --profile`: the worker processes write V8 CPU profiles to bench/results/profiles. */
const nodeFlags = process.argv.includes('--profile')
  ? ['--cpu-prof', `--cpu-prof-dir=${fileURLToPath(new URL('./results/profiles', import.meta.url))}`]
  : [];

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);
const base = loadConfigOrExit();
const stack = await startStack(base, { log });
const processes = processGroup();

try {
  if (selected('scoring')) log('scoring: 50 rules, RE2 beside RegExp');
  const scoring = selected('scoring') ? { ...runScoringBench(), isolation: await runScoringIsolationBench() } : undefined;
  if (selected('outbox')) log('bot pod outbox: durable appends and drain');
  const outbox = selected('outbox') ? await runOutboxBench() : undefined;

  // A database and task queue of its own, like the tests: a running `npm start` is not disturbed.
  Object.assign(process.env, {
    DATABASE_URL: withDatabaseName(base.database.appUrl, BENCH_DATABASE),
    DATABASE_MAINTENANCE_URL: withDatabaseName(base.database.maintenanceUrl, BENCH_DATABASE),
    DATABASE_MIGRATION_URL: withDatabaseName(base.database.migrationUrl, BENCH_DATABASE),
    DATABASE_TOKEN_ADMIN_URL: withDatabaseName(base.database.tokenAdminUrl, BENCH_DATABASE),
    TEMPORAL_TASK_QUEUE: 'platform-bench',
    LOG_LEVEL: 'warn',
  });
  const config = loadConfig();
  // An interrupted run may have left workflows running on the bench's queues; the floor's own never
  // end by themselves, and one that lived on would carry an earlier run's history into this one.
  for (const queue of [config.temporal.taskQueue, FLOOR_TASK_QUEUE]) await terminateRunningWorkflows(config.temporal, queue, 'a new benchmark run started');
  await recreateDatabase(config.database.migrationUrl, BENCH_DATABASE);
  await migrateUp({ url: config.database.migrationUrl, directory: fileURLToPath(new URL('../migrations', import.meta.url)), log: () => undefined });
  const pools = await createDatabasePools(config.database);
  const withTenant = createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 });
  const tenant = await seedTenant(withTenant);
  await withTenant(tenant.tenantId, async (tx) => {
    await tx.query(sql.unsafe`DELETE FROM scoring_rules WHERE bot_id = ${tenant.botId}`);
    for (const rule of benchRules()) {
      await tx.query(sql.unsafe`INSERT INTO scoring_rules (tenant_id, bot_id, kind, pattern, weight, tag)
        VALUES (${tenant.tenantId}, ${tenant.botId}, ${rule.kind}, ${rule.pattern}, ${rule.weight}, ${rule.tag ?? null})`);
    }
  });

  const endToEnd = [];
  if (selected('pipeline')) {
    const client = await connectTemporalClient(config.temporal);
    const expected = new Map<string, number>();
    const expectedPerLead = (message: BenchMessage) => expected.get(`${message.key.split('-')[0]}/${message.leadIndex}`)!;
    const floor = floorTarget(client, expectedPerLead);
    const remoteFloor = floorTarget(client, expectedPerLead, 'benchFloorRemote');
    const shapedFloor = floorTarget(client, expectedPerLead, 'benchFloorShaped');
    const platform = platformTarget({ client, taskQueue: config.temporal.taskQueue, withTenant, tenantId: tenant.tenantId, botId: tenant.botId });

    const floorWorker = await processes.start([...nodeFlags, 'bench/floor/worker.ts'], {
      readyText: 'floor worker ready', onMessage: (message) => { floor.record(message); shapedFloor.record(message); },
    });
    const floorActivityWorker = await processes.start([...nodeFlags, 'bench/floor/activity-worker.ts'], { readyText: 'floor activity worker ready', onMessage: remoteFloor.record });
    const platformWorker = await processes.start([...nodeFlags, 'worker/main.ts']);
    const botPod = await startBotPod(processes, tenant.tenantId, { nodeFlags });
    // Every process on the shared cores, read around each burst: a target's CPU per message.
    const stackServiceCpu = (name: string) => {
      const pid = servicePid(base.stack.dir, name); // none when the stack runs elsewhere
      return pid === null ? {} : { [name]: () => processTreeCpuSeconds(pid) };
    };
    const cpuSources: CpuSources = {
      ...stackServiceCpu('temporal'),
      ...stackServiceCpu('postgres'),
      platformWorker: () => processCpuSeconds(platformWorker.pid!),
      botPod: () => processCpuSeconds(botPod.child.pid!),
      floorWorkers: () => processCpuSeconds(floorWorker.pid!) + processCpuSeconds(floorActivityWorker.pid!),
      loadDriver: () => processCpuSeconds(process.pid),
    };
    const measuredBurst = async (target: Target, messages: readonly BenchMessage[]): Promise<MeasuredLoad> => {
      const cpu = startCpuMeasure(cpuSources);
      const result = await burst(target, messages);
      return { ...result, cpuPerMessage: cpu.perMessage(result.messages) };
    };

    const plan = (run: string, leads: number, count: number) => {
      const messages = messagesFor(run, leads, count, SAMPLE_TEXTS);
      for (const message of messages) {
        const lead = `${run}/${message.leadIndex}`;
        expected.set(lead, (expected.get(lead) ?? 0) + 1);
      }
      return messages;
    };

    log('warm-up');
    await burst(floor.target, plan('wf', 10, 100));
    await burst(remoteFloor.target, plan('wr', 10, 100));
    await burst(shapedFloor.target, plan('ws', 10, 100));
    await burst(platform, plan('wp', 10, 100));

    for (const { leads, burstMessages } of SCENARIOS) {
      log(`${leads} lead(s): maximum rate`);
      const scenarioStarted = new Date();
      const floorBurst = plan(`fm${leads}`, leads, burstMessages);
      const floorMax = await measuredBurst(floor.target, floorBurst);
      const remoteFloorBurst = plan(`rm${leads}`, leads, burstMessages);
      const remoteFloorMax = await measuredBurst(remoteFloor.target, remoteFloorBurst);
      const shapedFloorBurst = plan(`sm${leads}`, leads, burstMessages);
      const shapedFloorMax = await measuredBurst(shapedFloor.target, shapedFloorBurst);
      const platformBurst = plan(`pm${leads}`, leads, burstMessages);
      const platformMax = await measuredBurst(platform, platformBurst);
      const historySize = {
        floor: await historySizeOfRun(client, floor.target, floorBurst, scenarioStarted),
        remoteFloor: await historySizeOfRun(client, remoteFloor.target, remoteFloorBurst, scenarioStarted),
        shapedFloor: await historySizeOfRun(client, shapedFloor.target, shapedFloorBurst, scenarioStarted),
        platform: await historySizeOfRun(client, platform, platformBurst, scenarioStarted),
      };
      const rate = pacedRateFlag === undefined ? platformMax.messagesPerSecond / 2 : Number(pacedRateFlag);
      const count = Math.max(PACED_MIN_MESSAGES, Math.round(rate * PACED_SECONDS));
      // The paced run keeps the burst's mix of new and continuing conversations (as many messages per
      // lead), so its rate is half of what that same traffic sustains. Spread over every lead, nearly
      // each message would start a new lead: not the traffic the rate was measured on.
      const pacedLeads = Math.min(leads, Math.max(1, Math.round((count * leads) / burstMessages)));
      log(`${leads} lead(s): latency at ${rate} msg/s, ${count} messages to ${pacedLeads} lead(s)`);
      const floorPaced = await paced(floor.target, plan(`fp${leads}`, pacedLeads, count), rate);
      const remoteFloorPaced = await paced(remoteFloor.target, plan(`rp${leads}`, pacedLeads, count), rate);
      const shapedFloorPaced = await paced(shapedFloor.target, plan(`sp${leads}`, pacedLeads, count), rate);
      const pacedMessages = plan(`pp${leads}`, pacedLeads, count);
      const pacedStarted = new Date();
      const platformPaced = await paced(platform, pacedMessages, rate);
      const platformPacedPhases = await messagePhasesOfRun(client, platform, pacedMessages, pacedStarted);
      // For comparison, the measure before: the same rate with the messages spread over every lead.
      const platformPacedNewLeads = pacedLeads < leads
        ? await paced(platform, plan(`pn${leads}`, leads, count), rate)
        : null;
      endToEnd.push({
        leads,
        floor: { max: floorMax, atHalfPlatformMax: floorPaced },
        remoteFloor: { max: remoteFloorMax, atHalfPlatformMax: remoteFloorPaced },
        shapedFloor: { max: shapedFloorMax, atHalfPlatformMax: shapedFloorPaced },
        platform: { max: platformMax, atHalfMax: platformPaced, atHalfMaxPhases: platformPacedPhases, atHalfMaxNewLeadsOnly: platformPacedNewLeads },
        platformVersusFloor: Number((platformMax.messagesPerSecond / floorMax.messagesPerSecond).toFixed(2)),
        platformVersusRemoteFloor: Number((platformMax.messagesPerSecond / remoteFloorMax.messagesPerSecond).toFixed(2)),
        platformVersusShapedFloor: Number((platformMax.messagesPerSecond / shapedFloorMax.messagesPerSecond).toFixed(2)),
        historySize,
      });
    }
    await client.connection.close();
    // What the pipeline left in flight (qualification, owner notifications) would load the next sections.
    await processes.stopAll();
    const inFlight = await terminateRunningWorkflows(config.temporal, config.temporal.taskQueue, 'the pipeline benchmark ended');
    await terminateRunningWorkflows(config.temporal, FLOOR_TASK_QUEUE, 'the pipeline benchmark ended');
    log(`pipeline: ${inFlight} workflow(s) still in flight terminated`);
  }
  let tenantIsolation;
  if (selected('isolation')) {
    log('tenant isolation: one tenant\'s ingest latency alone and beside a hostile tenant');
    const client = await connectTemporalClient(config.temporal);
    tenantIsolation = await runTenantIsolationBench({
      client, taskQueue: config.temporal.taskQueue, withTenant, processes, nodeFlags,
    });
    await client.connection.close();
    await processes.stopAll();
    await terminateRunningWorkflows(config.temporal, config.temporal.taskQueue, 'the isolation benchmark ended');
  }
  if (selected('api')) log('API lead list under load beside its bare pg floor and a bare Express route');
  const apiLeads = selected('api') ? await runApiLeadsBench(processes, config, withTenant, nodeFlags, apiRounds) : undefined;
  if (selected('pods')) log('bot pod memory: 1 and 10 idle bots');
  const podMemory = selected('pods') ? await runPodRssBench(processes, withTenant) : undefined;
  if (selected('density')) log('density: 20 tenant pods, their memory, and inbound-to-reply latency with all of them receiving traffic');
  const density = selected('density') ? await runDensityBench(processes, withTenant) : undefined;
  if (selected('density')) {
    await processes.stopAll();
    await terminateRunningWorkflows(config.temporal, config.temporal.taskQueue, 'the density benchmark ended');
  }
  if (selected('email')) log('email sequences: mails per second through the workflow path beside nodemailer alone');
  const emailSequences = selected('email') ? await runEmailSequenceBench(processes, config, withTenant) : undefined;
  if (selected('email')) {
    await processes.stopAll();
    await terminateRunningWorkflows(config.temporal, config.temporal.taskQueue, 'the email benchmark ended');
  }
  if (selected('integrity')) log('data integrity: a full platform run, clean and with 1% defects, beside count(*)');
  const integrity = selected('integrity')
    ? await runIntegrityBench(base, log, { tenants: 100, leadsPerTenant: Math.max(1, Math.round(integrityLeads / 100)), messagesPerLead: 10 }, integrityReuse)
    : undefined;
  if (selected('retention')) log(`data retention: ${retentionMessages} expired messages deleted in batches, beside lead ingestion`);
  const retention = selected('retention')
    ? await runRetentionBench(base, log, { expiredMessages: retentionMessages, keptMessages: Math.round(retentionMessages / 10) })
    : undefined;
  // Last: generating 1 GB leaves the server busy (autovacuum, checkpoints) for a while.
  const backup = selected('backup') ? await runBackupBench(base, log, backupMb) : undefined;
  await pools.end();

  const results = {
    measuredAt: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version },
    scoring,
    outbox,
    podMemory,
    density,
    apiLeads,
    emailSequences,
    backup,
    integrity,
    retention,
    endToEnd,
    tenantIsolation,
  };
  const directory = fileURLToPath(new URL('./results', import.meta.url));
  mkdirSync(directory, { recursive: true });
  if (reducedSizes) writeFileSync(join(directory, 'partial.json'), `${JSON.stringify(results, null, 2)}\n`);
  else writeLatest(join(directory, 'latest.json'), results);
  if (scoring) printScoring(scoring);
  if (endToEnd.length > 0) printTable(endToEnd);
  if (podMemory) process.stdout.write(`bot pod RSS after ${podMemory.idleSeconds}s idle (bare node ${podMemory.bareNodeRssMb} MB): ${podMemory.pods.map((pod) => `${pod.transport} ${pod.bots} bot(s) ${pod.rssMb} MB (PSS ${pod.pssMb})`).join(', ')}\n`);
  if (density) {
    const { idle, underTraffic, inboundToReply: latency } = density;
    process.stdout.write(`density, ${density.pods} simulator pods of 1 bot: idle per pod RSS ${idle.perPodRssMb.median} MB (PSS ${idle.perPodPssMb.median}), total RSS ${idle.totalRssMb} MB (PSS ${idle.totalPssMb}); `
      + `maximum ${density.maximum.messagesPerSecond} msg/s; at ${density.inboundToReply.messagesPerSecond} msg/s peak per pod RSS ${underTraffic.perPodRssMb.median}/${underTraffic.perPodRssMb.max} MB median/max, total PSS ${underTraffic.totalPssMb} MB; `
      + `inbound-to-reply p50/p99 ${latency.p50Ms}/${latency.p99Ms} ms\n`);
  }
  if (apiLeads) {
    const { leadList, floor, bare } = apiLeads;
    process.stdout.write(`API lead list (50 of ${apiLeads.leads}), median of ${apiLeads.rounds} rounds: max ${leadList.max} req/s, floor (same SQL on bare Express + pg) ${floor.max}, `
      + `ratio ${apiLeads.leadListVersusFloor} (rounds ${apiLeads.runs.map((run) => run.leadListVersusFloor).join(', ')}); bare Express ${bare.max} (ratio ${apiLeads.leadListVersusBare}); `
      + `at 500 req/s p50/p99 ${leadList.at500.p50Ms}/${leadList.at500.p99Ms} ms (floor ${floor.at500.p50Ms}/${floor.at500.p99Ms}, bare ${bare.at500.p50Ms}/${bare.at500.p99Ms} ms; `
      + `p99 by round ${apiLeads.at500Rounds.map((round) => `${round.leadList.p99Ms}/${round.floor.p99Ms}`).join(', ')} lead list/floor); `
      + `per request, by round: server transactions ${apiLeads.runs.map((run) => `${run.perRequest.leadList.transactions}/${run.perRequest.floor.transactions}`).join(', ')}, `
      + `process CPU ms ${apiLeads.runs.map((run) => `${run.perRequest.leadList.cpuMs}/${run.perRequest.floor.cpuMs}`).join(', ')} (lead list/floor)\n`);
  }
  if (tenantIsolation) {
    const { calmAlone, calmBesideBenign, calmBesideHostile } = tenantIsolation;
    process.stdout.write(`tenant B ingest latency p50/p99 ms (${tenantIsolation.messages} messages): alone ${calmAlone.p50Ms}/${calmAlone.p99Ms}; `
      + `beside ${tenantIsolation.hostileLeads} ${tenantIsolation.hostileMessageChars}-character messages of another tenant: cheap rules ${calmBesideBenign.p50Ms}/${calmBesideBenign.p99Ms}, `
      + `hostile rules ${calmBesideHostile.p50Ms}/${calmBesideHostile.p99Ms}\n`);
  }
  if (emailSequences) {
    const { mails, inFlight, nodemailerDirect, workflowPath, workflowVersusDirect } = emailSequences;
    process.stdout.write(`email sequences, ${mails} mails, ${inFlight} in flight: workflow path ${workflowPath.emailsPerSecond} mails/s, nodemailer alone ${nodemailerDirect.emailsPerSecond} mails/s (ratio ${workflowVersusDirect})\n`);
  }
  if (backup) printBackup(backup);
  if (integrity) printIntegrity(integrity);
  if (retention) printRetention(retention);
  if (outbox) process.stdout.write(`bot pod outbox: ${outbox.durableAppendsPerSecond} durable appends/s (raw appends without fsync ${outbox.rawAppendsPerSecond}/s, node:sqlite WAL synchronous=FULL ${outbox.sqliteAppendsPerSecond}/s), drained ${outbox.drainedPerSecond} msg/s\n`);
} finally {
  await processes.stopAll();
  await stack.stop();
}

function printBackup(backup: Awaited<ReturnType<typeof runBackupBench>>) {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`backup of a ${backup.databaseMb} MB database (${backup.dumpMb} MB of dump):`);
  out('what | seconds | MB/s of dump | stored MB | ratio | (pipeline / checksums s)');
  out(`raw pg_dump -Fc > /dev/null | ${backup.rawPgDump.seconds} | ${backup.rawPgDump.dumpMbPerSecond} | ${backup.rawPgDumpFileMb} | -`);
  out(`raw pg_dump -Fc -Z0 > /dev/null | ${backup.rawPgDumpUncompressed.seconds} | ${backup.rawPgDumpUncompressed.dumpMbPerSecond} | ${backup.dumpMb} | 1`);
  for (const [name, run] of Object.entries(backup.compressors)) out(`platform backup, ${name} | ${run.backupSeconds} | ${run.dumpMbPerSecond} | ${run.storedMb} | ${run.ratio} | ${run.pipelineSeconds} / ${run.checksumSeconds}`);
  out(`platform backup (zstd 1, the default) vs raw pg_dump: ${backup.backupVersusRawPgDump}`);
  out(`restore: raw pg_restore ${backup.restore.rawPgRestoreSeconds} s, platform ${backup.restore.platformRestoreSeconds} s (${backup.restore.restoreVersusRaw}x), verification ${backup.restore.verificationSeconds} s, RTO ${backup.restore.rtoSeconds} s`);
}

function printScoring(scoring: ReturnType<typeof runScoringBench> & { isolation: Awaited<ReturnType<typeof runScoringIsolationBench>> }) {
  process.stdout.write(`scoring, ${scoring.rules} rules: RE2 ${scoring.re2MessagesPerSecond} msg/s, RegExp ${scoring.jsRegExpMessagesPerSecond} msg/s\n`);
  process.stdout.write(`  (a+)+$ on 100 kB: RE2 ${scoring.pathological.re2SecondsAt100kB} s; RegExp by length ${JSON.stringify(scoring.pathological.jsRegExpSecondsByLength)} s\n`);
  const { isolation } = scoring;
  process.stdout.write(`  tenant B scoring p50/p99 ms: alone ${isolation.calmAlone.p50Ms}/${isolation.calmAlone.p99Ms}, beside a hostile tenant ${isolation.calmBesideHostile.p50Ms}/${isolation.calmBesideHostile.p99Ms} (${isolation.hostileMessages} hostile messages, ${isolation.hostileTimedOut} over budget); worst-case name check ${isolation.nameCheckWorstCaseMs} ms\n`);
}

/** A burst, with what it cost each process on the shared cores. */
type MeasuredLoad = LoadResult & { readonly cpuPerMessage: CpuPerMessage };

type EndToEndRow = {
  leads: number; floor: { max: MeasuredLoad; atHalfPlatformMax: LoadResult }; remoteFloor: { max: MeasuredLoad; atHalfPlatformMax: LoadResult };
  shapedFloor: { max: MeasuredLoad; atHalfPlatformMax: LoadResult };
  platform: { max: MeasuredLoad; atHalfMax: LoadResult; atHalfMaxPhases: PhasesSummary | null; atHalfMaxNewLeadsOnly: LoadResult | null };
  platformVersusFloor: number; platformVersusRemoteFloor: number; platformVersusShapedFloor: number;
  historySize: { floor: HistorySize; remoteFloor: HistorySize; shapedFloor: HistorySize; platform: HistorySize };
};

function printTable(endToEnd: EndToEndRow[]) {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out('leads | floor msg/s | platform msg/s | ratio | remote-activity floor msg/s | ratio | shaped floor msg/s | ratio | rate for latency | platform p50/p99/max ms | floor p50/p99 ms | remote floor p50/p99 ms | shaped floor p50/p99 ms | history events/bytes per message, platform (floor; shaped floor) | sendText (floor, remote floor no-op) schedule-to-start p50 ms | platform p50/p99 ms, every paced message a new lead');
  for (const row of endToEnd) {
    out([
      row.leads, row.floor.max.messagesPerSecond, row.platform.max.messagesPerSecond, row.platformVersusFloor,
      row.remoteFloor.max.messagesPerSecond, row.platformVersusRemoteFloor,
      row.shapedFloor.max.messagesPerSecond, row.platformVersusShapedFloor,
      row.platform.atHalfMax.messagesPerSecond,
      `${row.platform.atHalfMax.p50Ms}/${row.platform.atHalfMax.p99Ms}/${row.platform.atHalfMax.maxMs}`,
      `${row.floor.atHalfPlatformMax.p50Ms}/${row.floor.atHalfPlatformMax.p99Ms}`,
      `${row.remoteFloor.atHalfPlatformMax.p50Ms}/${row.remoteFloor.atHalfPlatformMax.p99Ms}`,
      `${row.shapedFloor.atHalfPlatformMax.p50Ms}/${row.shapedFloor.atHalfPlatformMax.p99Ms}`,
      `${row.historySize.platform.eventsPerMessage}/${row.historySize.platform.bytesPerMessage} (${row.historySize.floor.eventsPerMessage}/${row.historySize.floor.bytesPerMessage}; ${row.historySize.shapedFloor.eventsPerMessage}/${row.historySize.shapedFloor.bytesPerMessage})`,
      `${row.historySize.platform.activityScheduleToStartP50Ms} (${row.historySize.floor.activityScheduleToStartP50Ms}, ${row.historySize.remoteFloor.activityScheduleToStartP50Ms})`,
      row.platform.atHalfMaxNewLeadsOnly ? `${row.platform.atHalfMaxNewLeadsOnly.p50Ms}/${row.platform.atHalfMaxNewLeadsOnly.p99Ms}` : '-',
    ].join(' | '));
  }
  // From the histories: what the paced run's median and slowest message spent where.
  out('leads | paced message, ms: signal to reply scheduled / reply waits for the pod / send / to recorded = total (median; slowest)');
  for (const row of endToEnd) {
    const phases = row.platform.atHalfMaxPhases;
    const line = (p: Omit<MessagePhases, 'key'>) => `${p.toReplyScheduledMs} / ${p.replyScheduleToStartMs} / ${p.replySendMs} / ${p.toRecordedMs} = ${p.totalMs}`;
    out(`${row.leads} | ${phases ? `${line(phases.median)}; ${line(phases.slowest)} (${phases.slowest.key})` : '-'}`);
  }
  // From /proc: what a message of each burst cost every process on the two cores.
  out('leads | CPU ms per message at maximum rate (cores busy): floor / remote floor / shaped floor / platform | platform by process');
  for (const row of endToEnd) {
    const cpu = (load: MeasuredLoad) => `${load.cpuPerMessage.totalMs} (${load.cpuPerMessage.coresBusy})`;
    const byProcess = Object.entries(row.platform.max.cpuPerMessage.ms).map(([name, ms]) => `${name} ${ms}`).join(', ');
    out(`${row.leads} | ${[row.floor, row.remoteFloor, row.shapedFloor, row.platform].map((target) => cpu(target.max)).join(' / ')} | ${byProcess}`);
  }
}
