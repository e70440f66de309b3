// schemathesis against /api/v1/openapi.json on the running API: thousands of generated requests,
// valid and invalid, including stateful sequences. No 5xx, every response matches the document,
// undeclared methods get 405. Some validity no JSON Schema can express (a rule pattern must compile
// as RE2, an image's bytes must be that image type, a reordering must list the pipeline's own
// stages, a stage or image must exist, a cron field must be in range, an e-mail must be one the
// schema stores, an enrolment's sequence and lead must exist, an unsubscribe token must carry a valid
// signature, a SKU or pipeline name must be free, a lead's owner must be a user of its tenant, an
// audit time filter must be a time Postgres can compare): those
// routes run without the "valid data is accepted" check.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { Client } from '@temporalio/client';
import { pino } from 'pino';
import { createPool, sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { dropDatabase } from '../activities/backups/restore-database.ts';
import { createApp } from '../api/app.ts';
import { issueToken } from '../api/token-store.ts';
import { createObjectStoreClient } from '../core/object-store.ts';
import { loadConfig } from '../core/config.ts';
import { withDatabaseName } from '../core/db/database-url.ts';
import { createDatabasePools, createTokenAdminPool, type DatabasePools } from '../core/db/pools.ts';
import { createWithTenant } from '../core/db/with-tenant.ts';
import { lazyTemporalClient } from '../core/temporal/client.ts';
import { terminateRunningWorkflows } from '../stack/workflows.ts';
import { processGroup } from './support/processes.ts';

const config = loadConfig();
const processes = processGroup();
const s3 = createObjectStoreClient(config.s3);
let pools: DatabasePools;
let tokenPool: DatabasePool;
let client: Client;
let api: ReturnType<typeof createApp>;
let url: string;
let token: string;

const ownerUrl = config.database.migrationUrl;
let restoredBefore: string[] = [];
const restoredDatabases = async () => {
  const server = await createPool(withDatabaseName(ownerUrl, 'postgres'), { maximumPoolSize: 1 });
  try {
    return [...await server.anyFirst(sql.type(z.object({ datname: z.string() }))`
      SELECT datname FROM pg_database WHERE shobj_description(oid, 'pg_database') LIKE 'botinteligente: restore%'`)];
  } finally {
    await server.end();
  }
};

beforeAll(async () => {
  restoredBefore = await restoredDatabases();
  pools = await createDatabasePools(config.database);
  tokenPool = await createTokenAdminPool(config.database);
  // The API's own client (api/temporal-access.ts): every call bounded by TEMPORAL_RPC_TIMEOUT_MS, so a
  // query no worker answers in time ends in a 503, not in a request the fuzzer gives up on.
  client = lazyTemporalClient(config.temporal);
  api = createApp({
    config: { ...config, api: { ...config.api, rateLimit: { ...config.api.rateLimit, windowSeconds: 900, perIp: 1_000_000, perToken: 1_000_000, lockoutMaxSeconds: 86_400 } } },
    pools, tokenPool, withTenant: createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 }), logger: pino({ level: 'silent' }),
    temporalHealthy: async () => true, temporal: async () => client, s3,
  });
  const server = await api.start(0, '127.0.0.1');
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  // The platform worker runs the short workflows some routes start (a bot's status) and answers their
  // queries (a restore's phase): ready before the fuzzer starts, or those calls wait on no one.
  await processes.start(['worker/main.ts'], { readyText: 'worker started', env: { LOG_LEVEL: 'info' } });
  ({ token } = (await issueToken(tokenPool, { tenantId: null, name: 'schemathesis', expiresAt: null, actor: 'test' }))!);
});
afterAll(async () => {
  await api.stop();
  // Schemathesis started backups and drills through the API; they must not run on into later tests.
  await terminateRunningWorkflows(config.temporal, config.temporal.taskQueue, 'left over by the API contract test');
  await processes.stopAll();
  // ... and restored backups into databases named by its examples.
  const created = await restoredDatabases();
  for (const database of created.filter((name) => !restoredBefore.includes(name))) await dropDatabase(ownerUrl, database);
  await client.connection.close();
  s3.destroy();
  await Promise.all([pools.end(), tokenPool.end()]);
});

/** Routes whose valid input the schema cannot fully say (a token's expiry must lie in the future, ...). */
const CONTENT_CHECKED = 'scoring-rules|/images$|/products(/[^/]+)?$|/schedules(/[^/]+)?$|/users(/[^/]+)?$|stage-order|/stage$|/tokens$|/unsubscribe/'
  + '|/email-sequences(/[^/]+)?$|/email-enrollments$|/email-sequence$|/pipelines/[^/]+$|/leads/[^/]+$'
  + '|/bots/[^/]+(/archive|/unarchive)?$|/owner-webhooks$|/audit$';

/**
 * Answer 503 by design: the integrity probe (an unhealthy platform), and a bot session command on a
 * tenant created by a stateful sequence, which has no bot pod. Every check but "no server error" applies.
 */
const HEALTH_PROBE = 'data-integrity/health$|/session/(pairing-code|logout|restart)$';

/** Runs the `st` CLI that scripts/setup.sh installs; resolves with its exit code and output. */

const schemathesis = (args: string[]) => new Promise<{ code: number | null; output: string }>((resolve) => {
  const child = spawn('st', ['--config-file', 'test/schemathesis.toml', 'run', `${url}/api/v1/openapi.json`, '--url', url, '-H', `Authorization: Bearer ${token}`,
    '--max-examples', '20', '--seed', '20261122', '--no-color', ...args]);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  child.on('close', (code) => resolve({ code, output }));
});

describe('API contract (schemathesis)', () => {
  it('finds no server error and no response outside the document on any route', async () => {
    const run = await schemathesis(['--exclude-path-regex', `${CONTENT_CHECKED}|${HEALTH_PROBE}`]);
    if (run.code !== 0) throw new Error(`schemathesis found failures:\n${run.output.slice(-8000)}`);
  }, 900_000);

  it('finds none on the routes whose validity depends on content either', async () => {
    const run = await schemathesis(['--include-path-regex', CONTENT_CHECKED, '--exclude-checks', 'positive_data_acceptance']);
    if (run.code !== 0) throw new Error(`schemathesis found failures:\n${run.output.slice(-8000)}`);
  }, 900_000);

  it('finds none on the integrity health probe, whose 503 is a documented answer', async () => {
    const run = await schemathesis(['--include-path-regex', HEALTH_PROBE, '--exclude-checks', 'not_a_server_error']);
    if (run.code !== 0) throw new Error(`schemathesis found failures:\n${run.output.slice(-8000)}`);
  }, 900_000);
});
