// A newcomer running as root from a private directory (a clone under /root, or in `mktemp -d`,
// mode 0700) gets a working Postgres: the server's OS user cannot enter that directory, so the
// cluster lives where it can, and the clone's permissions stay as they were.
import { mkdirSync, mkdtempSync, realpathSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { loadConfig, type Config } from '../core/config.ts';
import { withDatabaseName } from '../stack/databases.ts';
import { clusterBase } from '../stack/postgres-location.ts';
import { startPostgres, stopPostgres } from '../stack/postgres.ts';

const freePort = () => new Promise<number>((done) => {
  const server = createServer().listen(0, '127.0.0.1', () => {
    const { port } = server.address() as { port: number };
    server.close(() => done(port));
  });
});

const onPort = (url: string, port: number) => {
  const parsed = new URL(withDatabaseName(url, 'botinteligente'));
  parsed.port = String(port);
  return parsed.toString();
};

describe('Postgres started from a private directory', () => {
  it('starts, answers and stops, with the directory still private (as root: the cluster outside it)', async () => {
    const clone = mkdtempSync(join(tmpdir(), 'clone-'));
    expect(statSync(clone).mode & 0o777).toBe(0o700);
    // A clone's .tools/bin holds links to the system's PostgreSQL programs (scripts/setup.sh).
    mkdirSync(join(clone, '.tools'));
    symlinkSync(resolve(loadConfig().stack.toolsDir, 'bin'), join(clone, '.tools', 'bin'));
    const base = loadConfig();
    const port = await freePort();
    const config: Config = {
      ...base,
      database: {
        ...base.database,
        appUrl: onPort(base.database.appUrl, port), maintenanceUrl: onPort(base.database.maintenanceUrl, port), migrationUrl: onPort(base.database.migrationUrl, port),
      },
      stack: { ...base.stack, dir: join(clone, '.stack'), toolsDir: join(clone, '.tools') },
    };
    try {
      expect(await startPostgres(config)).toMatchObject({ reused: false });
      const client = new pg.Client({ connectionString: config.database.appUrl });
      await client.connect();
      expect((await client.query<{ user: string }>('SELECT current_user AS user')).rows[0]!.user).toBe('bi_app');
      await client.end();
      expect(statSync(clone).mode & 0o777).toBe(0o700);
      if (process.getuid?.() === 0) expect(realpathSync(join(clone, '.stack', 'pg')).startsWith(clone)).toBe(false);
    } finally {
      await stopPostgres(config);
      rmSync(realpathSync(clusterBase(config.stack.dir)), { recursive: true, force: true });
      rmSync(clone, { recursive: true, force: true });
    }
  }, 120_000);
});
