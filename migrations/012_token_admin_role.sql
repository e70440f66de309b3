-- Token minting and revocation move to a role of their own, `bi_token_admin`, that the API uses
-- for its token routes alone: the application role (`bi_app`) can no longer issue, revoke or read
-- token hashes. Tokens may carry an expiry; an expired token is refused like a revoked one. Token
-- hashes are kept out of the tenant-readable audit trail, including the rows written before.

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bi_token_admin') THEN
    RAISE EXCEPTION 'role bi_token_admin must exist before migrating (see docs/database.md, "Roles")';
  END IF;
END $$;

ALTER TABLE api_tokens ADD COLUMN expires_at timestamptz;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_expiry_after_creation CHECK (expires_at IS NULL OR expires_at > created_at);

-- The audit trigger leaves out the columns named as its arguments (secrets never enter the trail).
CREATE OR REPLACE FUNCTION record_data_change() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
  left_out text[] := coalesce(TG_ARGV, '{}');
  old_row jsonb := CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) - left_out END;
  new_row jsonb := CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) - left_out END;
  row_data jsonb := coalesce(new_row, old_row);
BEGIN
  INSERT INTO data_change_audit (tenant_id, table_name, record_id, operation, old_values, new_values, changed_by)
  VALUES ((row_data ->> 'tenant_id')::uuid, TG_TABLE_NAME, (row_data ->> 'id')::uuid, TG_OP, old_row, new_row,
          coalesce(nullif(current_setting('app.actor', true), ''), current_user));
  RETURN NULL;
END $$;
DROP TRIGGER api_tokens_audit ON api_tokens;
DROP TRIGGER api_tokens_audit_delete ON api_tokens;
CREATE TRIGGER api_tokens_audit AFTER INSERT OR UPDATE OF revoked_at ON api_tokens
  FOR EACH ROW WHEN (NEW.tenant_id IS NOT NULL) EXECUTE FUNCTION record_data_change('token_hash');
CREATE TRIGGER api_tokens_audit_delete AFTER DELETE ON api_tokens
  FOR EACH ROW WHEN (OLD.tenant_id IS NOT NULL) EXECUTE FUNCTION record_data_change('token_hash');

-- Hashes already in the trail are scrubbed. RLS is forced on the trail (the owner is bound too), so
-- it is lifted for this one statement, inside this migration's transaction.
ALTER TABLE data_change_audit NO FORCE ROW LEVEL SECURITY;
UPDATE data_change_audit SET old_values = old_values - 'token_hash', new_values = new_values - 'token_hash'
 WHERE table_name = 'api_tokens' AND (old_values ? 'token_hash' OR new_values ? 'token_hash');
ALTER TABLE data_change_audit FORCE ROW LEVEL SECURITY;

-- The application role keeps reading its tenant's tokens (names and dates, not hashes) and
-- authenticating through api_authenticate(); it writes no token at all.
REVOKE INSERT, UPDATE ON api_tokens FROM bi_app;
REVOKE SELECT ON api_tokens FROM bi_app;
GRANT SELECT (id, tenant_id, role, name, created_at, last_used_at, revoked_at, expires_at) ON api_tokens TO bi_app;
REVOKE EXECUTE ON FUNCTION api_revoke_token(uuid) FROM bi_app;
DROP FUNCTION api_issue_platform_token(text, bytea);

-- Now also answers the expiry, so the API's short authentication cache never outlives it.
DROP FUNCTION api_authenticate(bytea);
CREATE FUNCTION api_authenticate(presented_hash bytea)
  RETURNS TABLE (token_id uuid, role text, tenant_id uuid, expires_at timestamptz)
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
  -- last_used_at is refreshed at most once a minute: authentication stays a read on the hot path.
  UPDATE api_tokens t SET last_used_at = now()
   WHERE t.token_hash = presented_hash AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())
     AND (t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute');
  RETURN QUERY SELECT t.id, t.role, t.tenant_id, t.expires_at FROM api_tokens t
   WHERE t.token_hash = presented_hash AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now());
END $$;
REVOKE ALL ON FUNCTION api_authenticate(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api_authenticate(bytea) TO bi_app;

-- Issues a platform-admin token (no tenant) or a tenant-admin token; NULL when the tenant does not
-- exist. A tenant token is audited under its own tenant, with the caller's app.actor.
CREATE FUNCTION api_issue_token(token_tenant uuid, token_name text, hash bytea, expires timestamptz) RETURNS uuid
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
  caller_tenant text := current_setting('app.current_tenant', true);
  issued uuid;
BEGIN
  IF token_tenant IS NOT NULL THEN
    PERFORM set_config('app.current_tenant', token_tenant::text, true);
    IF NOT EXISTS (SELECT 1 FROM tenants WHERE id = token_tenant) THEN
      PERFORM set_config('app.current_tenant', coalesce(caller_tenant, ''), true);
      RETURN NULL;
    END IF;
  END IF;
  INSERT INTO api_tokens (tenant_id, role, name, token_hash, expires_at)
  VALUES (token_tenant, CASE WHEN token_tenant IS NULL THEN 'platform-admin' ELSE 'tenant-admin' END, token_name, hash, expires)
  RETURNING id INTO issued;
  PERFORM set_config('app.current_tenant', coalesce(caller_tenant, ''), true);
  RETURN issued;
END $$;

-- Every token (or one tenant's), without hashes, newest first.
CREATE FUNCTION api_list_tokens(for_tenant uuid)
  RETURNS TABLE (id uuid, tenant_id uuid, role text, name text, created_at timestamptz, last_used_at timestamptz,
                 revoked_at timestamptz, expires_at timestamptz)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  SELECT t.id, t.tenant_id, t.role, t.name, t.created_at, t.last_used_at, t.revoked_at, t.expires_at
    FROM api_tokens t WHERE for_tenant IS NULL OR t.tenant_id = for_tenant
   ORDER BY t.created_at DESC, t.id $$;

REVOKE ALL ON FUNCTION api_issue_token(uuid, text, bytea, timestamptz), api_list_tokens(uuid) FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO bi_token_admin;
GRANT EXECUTE ON FUNCTION api_issue_token(uuid, text, bytea, timestamptz), api_revoke_token(uuid), api_list_tokens(uuid) TO bi_token_admin;
