// A Postgres cluster in the stack's data directory: own port, loopback only, roles from the config.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pg from 'pg';
import type { Config } from '../core/config.ts';
import { asPostgresUser, clusterBase, POSTGRES_OS_USER, postgresProgram, runningAsRoot } from './postgres-location.ts';
import { isRunning, startService, stopService, waitUntilHealthy } from './processes.ts';

const SERVICE = 'postgres';

const paths = (config: Config) => {
  const base = clusterBase(config.stack.dir);
  return { base, data: join(base, 'data'), socket: join(base, 'socket'), bin: resolve(config.stack.toolsDir, 'bin') };
};

const pgPort = (config: Config) => Number(new URL(config.database.appUrl).port || 5432);

/** The cluster superuser, over the private socket (tests use it to plant role-level defects). */
export const superuserClient = (config: Config, database = 'postgres') =>
  new pg.Client({ host: paths(config).socket, port: pgPort(config), user: 'postgres', database });

const ownerCanConnect = async (config: Config) => {
  const url = new URL(config.database.migrationUrl);
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 2_000 });
  await client.connect();
  await client.end();
};

const initCluster = (config: Config) => {
  const { base, data, socket, bin } = paths(config);
  mkdirSync(socket, { recursive: true });
  chmodSync(socket, 0o700);
  if (runningAsRoot()) execFileSync('chown', ['-R', `${POSTGRES_OS_USER}:${POSTGRES_OS_USER}`, base]);
  if (existsSync(join(data, 'PG_VERSION'))) return;
  const [command, args] = asPostgresUser(postgresProgram(bin, 'initdb'), [
    '-D', data, '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--no-locale',
  ]);
  execFileSync(command, args, { stdio: 'pipe' });
  // The socket directory is private (0700), so trust on it is safe; TCP always needs a password.
  writeFileSync(join(data, 'pg_hba.conf'), [
    'local all all trust',
    'host all all 127.0.0.1/32 scram-sha-256',
    '',
  ].join('\n'));
};

const role = (url: string) => {
  const parsed = new URL(url);
  return { name: decodeURIComponent(parsed.username), password: decodeURIComponent(parsed.password) };
};

const owner = (config: Config) => role(config.database.migrationUrl).name;

/** Creates or updates the four roles and the databases, idempotently, as the cluster superuser. */
const bootstrap = async (config: Config) => {
  const client = superuserClient(config);
  await client.connect();
  try {
    const roles = [
      { ...role(config.database.migrationUrl), attributes: 'LOGIN CREATEDB NOSUPERUSER NOBYPASSRLS NOCREATEROLE' },
      { ...role(config.database.appUrl), attributes: 'LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE' },
      { ...role(config.database.maintenanceUrl), attributes: 'LOGIN BYPASSRLS NOSUPERUSER NOCREATEDB NOCREATEROLE' },
      { ...role(config.database.tokenAdminUrl), attributes: 'LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE' },
    ];
    for (const { name, password, attributes } of roles) {
      const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name]);
      // Identifiers and literals are quoted by the server (format %I/%L), never by string building here.
      const statement = await client.query<{ sql: string }>(
        "SELECT format('%s ROLE %I WITH %s PASSWORD %L', $1::text, $2::text, $3::text, $4::text) AS sql",
        [exists.rowCount ? 'ALTER' : 'CREATE', name, attributes, password],
      );
      await client.query(statement.rows[0]!.sql);
    }
    await ensureDatabaseWith(client, new URL(config.database.migrationUrl).pathname.slice(1), owner(config));
    // Swapping a restored database in for the live one disconnects the live one's sessions.
    await client.query((await client.query<{ sql: string }>("SELECT format('GRANT pg_signal_backend TO %I', $1::text) AS sql", [owner(config)])).rows[0]!.sql);
  } finally {
    await client.end();
  }
  await ensureRestoreTemplate(config, owner(config), role(config.database.maintenanceUrl).name);
};

/**
 * The template of every restore target: empty, with amcheck (not a trusted extension, so created
 * here as superuser) in its own schema, callable by the maintenance role that runs the drill.
 */
const ensureRestoreTemplate = async (config: Config, ownerName: string, maintenanceName: string) => {
  const name = config.backup.restoreTemplate;
  const client = superuserClient(config);
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!exists.rowCount) {
      const create = await client.query<{ sql: string }>("SELECT format('CREATE DATABASE %I OWNER %I TEMPLATE template0', $1::text, $2::text) AS sql", [name, ownerName]);
      await client.query(create.rows[0]!.sql);
    }
    const template = superuserClient(config, name);
    await template.connect();
    try {
      await template.query('CREATE SCHEMA IF NOT EXISTS amcheck');
      await template.query('CREATE EXTENSION IF NOT EXISTS amcheck WITH SCHEMA amcheck');
      const grants = await template.query<{ sql: string }>(
        "SELECT format('GRANT USAGE ON SCHEMA amcheck TO %1$I; GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA amcheck TO %1$I', $1::text) AS sql", [maintenanceName]);
      await template.query(grants.rows[0]!.sql);
    } finally {
      await template.end();
    }
    const mark = await client.query<{ sql: string }>("SELECT format('ALTER DATABASE %I WITH IS_TEMPLATE true', $1::text) AS sql", [name]);
    await client.query(mark.rows[0]!.sql);
  } finally {
    await client.end();
  }
};

const ensureDatabaseWith = async (client: pg.Client, database: string, owner: string) => {
  const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
  if (exists.rowCount) return;
  const statement = await client.query<{ sql: string }>("SELECT format('CREATE DATABASE %I OWNER %I', $1::text, $2::text) AS sql", [database, owner]);
  await client.query(statement.rows[0]!.sql);
};

export const startPostgres = async (config: Config): Promise<{ reused: boolean; url: string }> => {
  const port = new URL(config.database.appUrl).port || '5432';
  const url = `postgres://127.0.0.1:${port}`;
  if (await isRunning(() => ownerCanConnect(config))) {
    await bootstrap(config); // idempotent: brings a cluster of an older checkout up to date
    return { reused: true, url };
  }
  initCluster(config);
  const { data, socket, bin } = paths(config);
  const [command, args] = asPostgresUser(postgresProgram(bin, 'postgres'), [
    '-D', data, '-p', port, '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${socket}`,
    '-c', 'max_connections=200', '-c', 'shared_buffers=128MB', '-c', 'fsync=on',
  ]);
  startService(config.stack.dir, SERVICE, command, args);
  await waitUntilHealthy(config.stack.dir, SERVICE, async () => {
    const client = superuserClient(config);
    await client.connect();
    await client.end();
  });
  await bootstrap(config);
  return { reused: false, url };
};

/** Fast shutdown (SIGINT): open sessions are rolled back and the cluster stops cleanly. */
export const stopPostgres = (config: Config) => stopService(config.stack.dir, SERVICE, 'SIGINT');
