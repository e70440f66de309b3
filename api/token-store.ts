// Issuing, listing and revoking API tokens, through the token role's pool (`bi_token_admin`): the
// only role that may, and only through the SECURITY DEFINER functions of migration 012.
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { generateToken, hashToken } from './tokens.ts';

export type IssueTokenInput = {
  /** null: a platform-admin token; otherwise a tenant-admin token of that tenant. */
  readonly tenantId: string | null;
  readonly name: string;
  readonly expiresAt: Date | null;
  /** Recorded by the audit trigger for a tenant token. */
  readonly actor: string;
};

/** Issues a token and returns it once, or null when the tenant does not exist. */
export const issueToken = async (pool: DatabasePool, input: IssueTokenInput): Promise<{ id: string; token: string } | null> => {
  const token = generateToken();
  const expires = input.expiresAt === null ? null : input.expiresAt.toISOString();
  const id = await pool.transaction(async (tx) => {
    await tx.query(sql.unsafe`SELECT set_config('app.actor', ${input.actor}, true)`);
    return tx.oneFirst(sql.type(z.object({ id: z.uuid().nullable() }))`
      SELECT api_issue_token(${input.tenantId}, ${input.name}, ${sql.binary(hashToken(token))}, ${expires}::timestamptz) AS id`);
  });
  return id === null ? null : { id, token };
};

/** true once revoked (again or for the first time), null when there is no such token; `actor` as for issueToken. */
export const revokeToken = (pool: DatabasePool, tokenId: string, actor: string): Promise<boolean | null> =>
  pool.transaction(async (tx) => {
    await tx.query(sql.unsafe`SELECT set_config('app.actor', ${actor}, true)`);
    return tx.oneFirst(sql.type(z.object({ revoked: z.boolean().nullable() }))`SELECT api_revoke_token(${tokenId}) AS revoked`);
  });

const tokenRow = z.object({
  id: z.uuid(), tenant_id: z.uuid().nullable(), role: z.enum(['platform-admin', 'tenant-admin']), name: z.string(),
  created_at: z.number(), last_used_at: z.number().nullable(), revoked_at: z.number().nullable(), expires_at: z.number().nullable(),
});
export type TokenRow = z.infer<typeof tokenRow>;

/** Every token, or one tenant's, newest first; never their hashes. */
export const listTokens = async (pool: DatabasePool, tenantId: string | null): Promise<readonly TokenRow[]> =>
  pool.any(sql.type(tokenRow)`SELECT * FROM api_list_tokens(${tenantId})`);
