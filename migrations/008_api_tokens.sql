-- API tokens: random bearer tokens shown once and stored as their SHA-256, each with a role.
-- platform-admin tokens have no tenant; tenant-admin tokens belong to exactly one.
-- The application role never reads the table directly to authenticate: api_authenticate() takes
-- a hash and answers only for that hash, so a request cannot enumerate other tokens.

CREATE TABLE api_tokens (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid REFERENCES tenants (id) ON DELETE CASCADE,
  role text NOT NULL CONSTRAINT api_tokens_role_valid CHECK (role IN ('platform-admin', 'tenant-admin')),
  name text NOT NULL CONSTRAINT api_tokens_name_length CHECK (length(name) BETWEEN 1 AND 200),
  token_hash bytea NOT NULL CONSTRAINT api_tokens_hash_length CHECK (length(token_hash) = 32),
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at timestamptz,
  CONSTRAINT api_tokens_hash_unique UNIQUE (token_hash),
  CONSTRAINT api_tokens_scope CHECK ((role = 'platform-admin') = (tenant_id IS NULL))
);
CREATE INDEX api_tokens_tenant_idx ON api_tokens (tenant_id);
-- Tenant tokens are audited with their tenant's data; platform tokens belong to no tenant, so
-- their issue and revocation are recorded in the API's request log instead.
CREATE TRIGGER api_tokens_audit AFTER INSERT OR UPDATE OF revoked_at ON api_tokens
  FOR EACH ROW WHEN (NEW.tenant_id IS NOT NULL) EXECUTE FUNCTION record_data_change();
CREATE TRIGGER api_tokens_audit_delete AFTER DELETE ON api_tokens
  FOR EACH ROW WHEN (OLD.tenant_id IS NOT NULL) EXECUTE FUNCTION record_data_change();

ALTER TABLE api_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_tokens FORCE ROW LEVEL SECURITY;
-- A tenant sees its own tenant-admin tokens (names, dates; the hashes are useless without the token).
CREATE POLICY tenant_isolation ON api_tokens USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());
-- The functions below run as the schema owner and see every row.
CREATE POLICY owner_functions ON api_tokens TO CURRENT_USER USING (true) WITH CHECK (true);
GRANT SELECT, INSERT ON api_tokens TO bi_app;
GRANT UPDATE (revoked_at) ON api_tokens TO bi_app;

CREATE FUNCTION api_authenticate(presented_hash bytea)
  RETURNS TABLE (token_id uuid, role text, tenant_id uuid)
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
  -- last_used_at is refreshed at most once a minute: authentication stays a read on the hot path.
  UPDATE api_tokens t SET last_used_at = now()
   WHERE t.token_hash = presented_hash AND t.revoked_at IS NULL
     AND (t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute');
  RETURN QUERY SELECT t.id, t.role, t.tenant_id FROM api_tokens t WHERE t.token_hash = presented_hash AND t.revoked_at IS NULL;
END $$;
REVOKE ALL ON FUNCTION api_authenticate(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api_authenticate(bytea) TO bi_app;

-- Platform tokens have no tenant, so RLS gives the application no row to write them to: issuing
-- and revoking one goes through these functions, which the API calls only for a platform admin.
CREATE FUNCTION api_issue_platform_token(token_name text, hash bytea) RETURNS uuid
  LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  INSERT INTO api_tokens (role, name, token_hash) VALUES ('platform-admin', token_name, hash) RETURNING id $$;
CREATE FUNCTION api_revoke_token(revoked_id uuid) RETURNS boolean
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
  owner_tenant uuid;
  caller_tenant text := current_setting('app.current_tenant', true);
BEGIN
  SELECT tenant_id INTO owner_tenant FROM api_tokens WHERE id = revoked_id;
  IF NOT FOUND THEN RETURN NULL; END IF;
  -- A tenant token's revocation is audited under its own tenant; the caller's context comes back after.
  IF owner_tenant IS NOT NULL THEN PERFORM set_config('app.current_tenant', owner_tenant::text, true); END IF;
  UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = revoked_id;
  PERFORM set_config('app.current_tenant', coalesce(caller_tenant, ''), true);
  RETURN true;
END $$;
REVOKE ALL ON FUNCTION api_issue_platform_token(text, bytea), api_revoke_token(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api_issue_platform_token(text, bytea), api_revoke_token(uuid) TO bi_app;
