// schemathesis against /api/v1/openapi.json on the running API: thousands of generated requests,
// valid and invalid, including stateful sequences. No 5xx, every response matches the document,
// undeclared methods get 405. Rule patterns must compile as RE2, which JSON Schema cannot express,
// so the scoring-rules routes run without the "valid data is accepted" check (a 422 names the rule).
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client, Connection } from '@temporalio/client';
import { pino } from 'pino';
import { sql } from 'slonik';
import { createApp } from '../api/app.ts';
import { generateToken, hashToken } from '../api/tokens.ts';
import { loadConfig } from '../core/config.ts';
import { createDatabasePools, type DatabasePools } from '../core/db/pools.ts';
import { createWithTenant } from '../core/db/with-tenant.ts';

const config = loadConfig();
let pools: DatabasePools;
let connection: Connection;
let api: ReturnType<typeof createApp>;
let url: string;
let token: string;

beforeAll(async () => {
  pools = await createDatabasePools(config.database);
  connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  api = createApp({
    config: { ...config, api: { ...config.api, rateLimit: { windowSeconds: 900, perIp: 1_000_000, perToken: 1_000_000 } } },
    pools, withTenant: createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 }), logger: pino({ level: 'silent' }),
    temporalHealthy: async () => true, temporal: async () => client,
  });
  const server = await api.start(0, '127.0.0.1');
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  token = generateToken();
  await pools.app.query(sql.unsafe`SELECT api_issue_platform_token('schemathesis', ${sql.binary(hashToken(token))})`);
});
afterAll(async () => {
  await api.stop();
  await connection.close();
  await pools.end();
});

/** Runs the `st` CLI that scripts/setup.sh installs; resolves with its exit code and output. */
const schemathesis = (args: string[]) => new Promise<{ code: number | null; output: string }>((resolve) => {
  const child = spawn('st', ['run', `${url}/api/v1/openapi.json`, '--url', url, '-H', `Authorization: Bearer ${token}`,
    '--checks', 'all', '--max-examples', '20', '--seed', '20261122', '--no-color', ...args]);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  child.on('close', (code) => resolve({ code, output }));
});

describe('API contract (schemathesis)', () => {
  it('finds no server error and no response outside the document on any route', async () => {
    const run = await schemathesis(['--exclude-path-regex', 'scoring-rules']);
    expect([run.code, run.output.slice(-3000)]).toEqual([0, expect.stringMatching(/passed/)]);
  }, 300_000);

  it('finds none on the scoring-rules routes either', async () => {
    const run = await schemathesis(['--include-path-regex', 'scoring-rules', '--exclude-checks', 'positive_data_acceptance']);
    expect([run.code, run.output.slice(-3000)]).toEqual([0, expect.stringMatching(/passed/)]);
  }, 300_000);
});
