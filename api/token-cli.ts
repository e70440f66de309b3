// `npm run token:create -- --name <name> [--tenant <tenantId>]`: issues an API token and prints it
// once. Without --tenant it is a platform-admin token.
import { parseArgs } from 'node:util';
import { sql } from 'slonik';
import { z } from 'zod';
import { loadConfigOrExit } from '../core/config.ts';
import { createAppPool } from '../core/db/pools.ts';
import { createWithTenant } from '../core/db/with-tenant.ts';
import { generateToken, hashToken } from './tokens.ts';

const usage = 'usage: npm run token:create -- --name <name> [--tenant <tenantId>]';
let options: { name?: string; tenant?: string };
try {
  ({ values: options } = parseArgs({ options: { name: { type: 'string' }, tenant: { type: 'string' } } }));
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n${usage}\n`);
  process.exit(64);
}
const name = z.string().trim().min(1).max(200).safeParse(options.name);
const tenant = z.uuid().optional().safeParse(options.tenant);
if (!name.success || !tenant.success) {
  process.stderr.write(`${!name.success ? '--name is required (1 to 200 characters)' : '--tenant must be a tenant id (UUID)'}\n${usage}\n`);
  process.exit(64);
}

const config = loadConfigOrExit();
const pool = await createAppPool(config.database);
const token = generateToken();
try {
  if (tenant.data) {
    const tenantId = tenant.data;
    await createWithTenant(pool, { maxAttempts: 3, retryBaseMs: 25 })(tenantId, async (tx) => {
      if (!await tx.exists(sql.unsafe`SELECT 1 FROM tenants WHERE id = ${tenantId}`)) throw new Error(`no tenant ${tenantId}`);
      await tx.query(sql.unsafe`INSERT INTO api_tokens (tenant_id, role, name, token_hash) VALUES (${tenantId}, 'tenant-admin', ${name.data}, ${sql.binary(hashToken(token))})`);
    }, { actor: 'token-cli' });
  } else {
    await pool.query(sql.unsafe`SELECT api_issue_platform_token(${name.data}, ${sql.binary(hashToken(token))})`);
  }
  process.stdout.write(`${tenant.data ? `tenant-admin token for ${tenant.data}` : 'platform-admin token'} (shown once):\n${token}\n`);
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await pool.end();
}
