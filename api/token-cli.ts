// `npm run token:create -- --name <name> [--tenant <tenantId>] [--expires <ISO 8601>]`: issues an
// API token through the token role and prints it once. Without --tenant it is a platform-admin token.
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { loadConfigOrExit } from '../core/config.ts';
import { createTokenAdminPool } from '../core/db/pools.ts';
import { issueToken } from './token-store.ts';

const usage = 'usage: npm run token:create -- --name <name> [--tenant <tenantId>] [--expires <ISO 8601 date-time with offset>]';
let options: { name?: string; tenant?: string; expires?: string };
try {
  ({ values: options } = parseArgs({ options: { name: { type: 'string' }, tenant: { type: 'string' }, expires: { type: 'string' } } }));
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n${usage}\n`);
  process.exit(64);
}
const name = z.string().trim().min(1).max(200).safeParse(options.name);
const tenant = z.uuid().optional().safeParse(options.tenant);
const expires = z.iso.datetime({ offset: true }).refine((value) => Date.parse(value) > Date.now()).optional().safeParse(options.expires);
const problem = !name.success ? '--name is required (1 to 200 characters)'
  : !tenant.success ? '--tenant must be a tenant id (UUID)'
    : !expires.success ? '--expires must be a future ISO 8601 date-time with an offset, such as 2027-01-31T00:00:00Z' : null;
if (problem) {
  process.stderr.write(`${problem}\n${usage}\n`);
  process.exit(64);
}

const config = loadConfigOrExit();
const pool = await createTokenAdminPool(config.database);
try {
  const tenantId = tenant.data ?? null;
  const expiresAt = expires.data === undefined ? null : new Date(expires.data);
  const issued = await issueToken(pool, { tenantId, name: name.data!, expiresAt, actor: 'token-cli' });
  if (!issued) throw new Error(`no tenant ${tenantId}`);
  const what = tenantId ? `tenant-admin token for ${tenantId}` : 'platform-admin token';
  process.stdout.write(`${what}${expiresAt ? `, expires ${expiresAt.toISOString()}` : ''} (shown once):\n${issued.token}\n`);
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await pool.end();
}
