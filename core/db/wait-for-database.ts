// A process starting while Postgres is down must wait for it before creating its pools: slonik's
// pool set-up connects once to read type OIDs and, when that connection is refused, never settles.
import pg from 'pg';
import type { Config } from '../config.ts';
import { waitFor, type WaitOptions } from '../wait-for.ts';

const connectOnce = async (url: string, timeoutMs: number) => {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => undefined); // a refused connect also emits 'error'; the rejection below says it
  await client.connect();
  await client.end();
};

export const waitForDatabase = (database: Config['database'], options: WaitOptions) =>
  waitFor(() => connectOnce(database.appUrl, database.connectTimeoutMs), options);
