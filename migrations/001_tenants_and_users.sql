-- Tenants and their users. Every tenant-owned table carries tenant_id and a UNIQUE (tenant_id, id)
-- so children can reference it with a composite foreign key that cannot cross tenants.

-- The tenant of the current transaction, set by withTenant with set_config(..., true).
-- Missing or empty means "no tenant": every policy then matches nothing.
CREATE FUNCTION app_current_tenant() RETURNS uuid
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT nullif(current_setting('app.current_tenant', true), '')::uuid $$;

CREATE FUNCTION touch_updated_at() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END $$;

CREATE TABLE tenants (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL CONSTRAINT tenants_name_length CHECK (length(name) BETWEEN 1 AND 200),
  slug text NOT NULL CONSTRAINT tenants_slug_format CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
  -- Validated by zod in the API; the cheap structural rules are enforced here too.
  settings jsonb NOT NULL DEFAULT '{}'
    CONSTRAINT tenants_settings_object CHECK (jsonb_typeof(settings) = 'object')
    CONSTRAINT tenants_settings_retention_days CHECK (
      NOT settings ? 'retentionDays' OR CASE WHEN jsonb_typeof(settings -> 'retentionDays') = 'number'
        THEN (settings ->> 'retentionDays')::numeric BETWEEN 1 AND 3650
             AND (settings ->> 'retentionDays')::numeric = trunc((settings ->> 'retentionDays')::numeric)
        ELSE false END)
    CONSTRAINT tenants_settings_timezone CHECK (
      NOT settings ? 'timezone' OR jsonb_typeof(settings -> 'timezone') = 'string'),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT tenants_slug_unique UNIQUE (slug)
);
CREATE TRIGGER tenants_touch BEFORE UPDATE ON tenants FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

CREATE TABLE users (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  email text NOT NULL
    CONSTRAINT users_email_format CHECK (email ~ '^[a-z0-9._%+-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}$' AND length(email) <= 254),
  name text CONSTRAINT users_name_length CHECK (length(name) <= 200),
  role text NOT NULL DEFAULT 'agent' CONSTRAINT users_role_valid CHECK (role IN ('owner', 'admin', 'agent')),
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT users_tenant_id_unique UNIQUE (tenant_id, id),
  CONSTRAINT users_tenant_email_unique UNIQUE (tenant_id, email)
);
