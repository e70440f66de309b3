// `npm start`: the whole platform on one machine (the embedded default). Brings up the local stack,
// migrates, creates the demo tenant once, runs the API, the platform worker and one bot pod per
// tenant, restarts any of these processes or services that dies, prints where everything is, and
// stops everything on Ctrl-C.
import { fileURLToPath } from 'node:url';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { issueToken } from '../api/token-store.ts';
import { loadConfigOrExit, type Config } from '../core/config.ts';
import { migrateUp } from '../core/db/migrations.ts';
import { createDatabasePools, createTokenAdminPool } from '../core/db/pools.ts';
import { createWithTenant } from '../core/db/with-tenant.ts';
import { createLocalPodRuntime } from './local-pod-runtime.ts';
import { ensureTenantPods, listTenants, watchTenants } from './tenant-pods.ts';
import { ensureDemoEmailSequence } from './demo-email-sequence.ts';
import { DEMO_BOT_ID, DEMO_MESSAGE, DEMO_TENANT_ID, ensureDemoTenant } from './demo-tenant.ts';
import { startStack } from './harness.ts';
import { startPostgres, stopPostgres } from './postgres.ts';
import { startMailpit, stopMailpit } from './mailpit.ts';
import { startS3, stopS3 } from './s3.ts';
import { nodeProcess, stackService, supervise } from './supervisor.ts';
import { startTemporal, stopTemporal } from './temporal.ts';

const repositoryRoot = fileURLToPath(new URL('..', import.meta.url));
const log = (message: string) => process.stdout.write(`[start] ${message}\n`);

const config = loadConfigOrExit();
const stack = await startStack(config, { log });
const applied = await migrateUp({
  url: config.database.migrationUrl,
  directory: fileURLToPath(new URL('../migrations', import.meta.url)),
  log,
});
log(applied.length > 0 ? `applied migrations ${applied.join(', ')}` : 'schema is up to date');

// Every process below, and Postgres, Temporal and S3, is restarted when it dies (stack/supervisor.ts).
const stopping = new AbortController();
const supervised = { log, signal: stopping.signal };
const node = (script: string, env: Record<string, string | undefined> = {}) =>
  nodeProcess(script, { cwd: repositoryRoot, env: { ...process.env, ...env }, signal: stopping.signal });
// A service restarted here is this start's own to stop, even when the first run was reused.
const restarted: (() => Promise<void>)[] = [];
const service = (name: string, start: (c: Config) => Promise<unknown>, stop: (c: Config) => Promise<void>) => {
  let runs = 0;
  return supervise(name, stackService(config.stack.dir, name, async () => {
    if (runs++ === 1) restarted.push(() => stop(config));
    await start(config);
  }, stopping.signal), supervised);
};
const services = [
  service('postgres', startPostgres, stopPostgres),
  service('temporal', startTemporal, stopTemporal),
  service('s3', startS3, stopS3),
  service('mailpit', startMailpit, stopMailpit),
];

// The demo tenant talks to the simulated WhatsApp network; every other tenant's pod uses
// BOT_POD_TRANSPORT (Baileys by default). Each pod has a data directory (its volume) of its own.
const pools = await createDatabasePools(config.database);
const demoWithTenant = createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 25 });
if (await ensureDemoTenant(demoWithTenant)) log('created the demo tenant');
if (await ensureDemoEmailSequence(demoWithTenant)) log('created the demo email sequence');
// The first platform-admin token, created once and kept (mode 0600) in the stack directory so a
// later start can point to it; production issues tokens with `npm run token:create`.
const tokenFile = join(config.stack.dir, 'api-token');
if (!existsSync(tokenFile)) {
  const tokenPool = await createTokenAdminPool(config.database);
  const { token } = (await issueToken(tokenPool, { tenantId: null, name: 'first platform admin (npm start)', expiresAt: null, actor: 'npm-start' }))!;
  await tokenPool.end();
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  log('created the first platform-admin API token');
}
const apiToken = readFileSync(tokenFile, 'utf8').trim();
// Each tenant's pod, on the local pod runtime; a tenant created through the API gets its pod at
// the next look at the tenants list, without a restart.
const demoTransport = (tenantId: string) => tenantId === DEMO_TENANT_ID ? 'simulator' : config.botPod.transport;
let nextPort = config.botPod.httpPort;
const pods = createLocalPodRuntime({
  cwd: repositoryRoot,
  volumesDir: join(config.stack.dir, 'bot-pods'),
  port: () => nextPort++,
  transport: demoTransport,
  env: process.env,
  log,
});
const tenants = listTenants(pools.maintenance);
const tenantIds = await ensureTenantPods(tenants, pods);
const watching = watchTenants(tenants, pods, { signal: stopping.signal, log, running: tenantIds });
const supervision = Promise.all([
  ...services,
  supervise('worker', node('worker/main.ts'), supervised),
  supervise('api', node('api/server.ts'), supervised),
]);
const demoUrl = (await pods.podStatus(DEMO_TENANT_ID)).url!;
const podUrls = await Promise.all(tenantIds.map(async (tenantId) => (await pods.podStatus(tenantId)).url!));

const appUrl = new URL(config.database.appUrl);
appUrl.password = '***';
log(`ready:
  Temporal UI    ${stack.urls.temporalUi}
  Temporal gRPC  ${stack.urls.temporalGrpc} (namespace ${config.temporal.namespace}, task queue ${config.temporal.taskQueue})
  S3             ${stack.urls.s3} (bucket ${config.s3.bucket})
  Mail (mailpit) ${stack.urls.mailpit}/ (web UI: the mail the platform sent; API ${stack.urls.mailpit}/api/v1/messages; SMTP ${config.email.smtp.host}:${config.email.smtp.port})
  Postgres       ${appUrl.toString()} (application role; see docs/configuration.md)
  Bot pods       ${tenantIds.map((tenantId, index) => `${tenantId} ${podUrls[index]} (${demoTransport(tenantId)})`).join('\n                 ')}
  API            http://${config.api.host}:${config.api.port}/api/v1 (OpenAPI: /api/v1/openapi.json)
  API token      ${apiToken} (platform admin; also in ${tokenFile})
Try the API:
  curl -H 'authorization: Bearer ${apiToken}' http://${config.api.host}:${config.api.port}/api/v1/tenants
Try the demo bot as a simulated WhatsApp user:
  curl -X POST ${demoUrl}/simulator/bots/${DEMO_BOT_ID}/inbound -H 'content-type: application/json' \\
    -d '{"key":{"remoteJid":"5511987654321@s.whatsapp.net","id":"DEMO-1"},"message":{"conversation":"${DEMO_MESSAGE}"}}'
  curl ${demoUrl}/simulator/bots/${DEMO_BOT_ID}/sent
  open ${stack.urls.mailpit}/ in a browser: the demo sequence's first mail to the lead
Press Ctrl-C to stop.`);

const shutdown = async (signal: NodeJS.Signals): Promise<void> => {
  if (stopping.signal.aborted) return;
  log(`${signal}: stopping`);
  stopping.abort();
  await watching; // no pod is ensured after this
  await Promise.all([supervision, pods.removeAll()]);
  await pools.end();
  await Promise.all([stack.stop(), ...restarted.map((stop) => stop())]);
  log('stopped');
  process.exit(0);
};
process.on('SIGINT', (signal) => void shutdown(signal));
process.on('SIGTERM', (signal) => void shutdown(signal));
