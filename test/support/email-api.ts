// The API in-process for the email tests (no Temporal needed: these routes start no workflow), with
// a tenant-admin token per tenant, a JSON caller, and a second mailpit that demands a login: a
// tenant's own SMTP server, apart from the platform's.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pino, type Logger } from 'pino';
import type { DatabasePool } from 'slonik';
import { createApp } from '../../api/app.ts';
import { issueToken } from '../../api/token-store.ts';
import type { Config } from '../../core/config.ts';
import type { DatabasePools } from '../../core/db/pools.ts';
import type { WithTenant } from '../../core/db/with-tenant.ts';
import { createObjectStoreClient } from '../../core/object-store.ts';
import { waitFor } from '../../core/wait-for.ts';
import { createMailpit } from './mailpit.ts';

export const startEmailApi = async (config: Config, deps: { pools: DatabasePools; tokenPool: DatabasePool; withTenant: WithTenant; logger?: Logger }) => {
  const s3 = createObjectStoreClient(config.s3);
  const api = createApp({
    config, ...deps, logger: deps.logger ?? pino({ level: 'silent' }), s3,
    temporalHealthy: async () => true, temporal: async () => { throw new Error('these routes need no Temporal'); },
  });
  const server = await api.start(0, '127.0.0.1');
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    base,
    tokenFor: async (tenantId: string) => (await issueToken(deps.tokenPool, { tenantId, name: 'email-test', expiresAt: null, actor: 'test' }))!.token,
    call: async (method: string, path: string, token: string, body?: unknown) => {
      const response = await fetch(`${base}/api/v1${path}`, {
        method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, json: await response.json() as Record<string, unknown> & { items?: Record<string, unknown>[] } };
    },
    stop: async () => {
      await api.stop();
      s3.destroy();
    },
  };
};

const freePort = () => new Promise<number>((done, fail) => {
  const probe = createServer().once('error', fail).listen(0, '127.0.0.1', () => {
    const { port } = probe.address() as { port: number };
    probe.close(() => done(port));
  });
});

/** A mailpit of its own that accepts mail only after AUTH with this user and password. */
export const startTenantMailpit = async (config: Config, login: { user: string; password: string }) => {
  const [smtpPort, httpPort] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'tenant-mailpit-'));
  writeFileSync(join(dir, 'auth'), `${login.user}:${login.password}\n`, { mode: 0o600 });
  const child: ChildProcess = spawn(resolve(config.stack.toolsDir, 'bin', 'mailpit'), [
    '--smtp', `127.0.0.1:${smtpPort}`, '--listen', `127.0.0.1:${httpPort}`, '--smtp-auth-file', join(dir, 'auth'),
    '--smtp-auth-allow-insecure', '--smtp-disable-rdns', '--disable-version-check', '--quiet',
  ], { stdio: 'ignore' });
  const mailpit = createMailpit({ ...config, stack: { ...config.stack, mailpitHttpPort: httpPort } });
  await waitFor(async () => {
    if (!(await fetch(`http://127.0.0.1:${httpPort}/api/v1/info`)).ok) throw new Error('mailpit not ready');
  }, { log: () => undefined, baseMs: 50, maxMs: 200, signal: AbortSignal.timeout(10_000) });
  return {
    smtpPort, mailpit,
    stop: () => {
      child.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};
