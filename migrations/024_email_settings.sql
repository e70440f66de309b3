-- Email sequences, the tenant's side:
-- 1. email_smtp_settings: one row per tenant that sends through its own SMTP server instead of the
--    platform's (SMTP_HOST). The password is sealed with the platform keyring (AES-256-GCM, the
--    tenant id as associated data, so a sealed value cannot be moved to another tenant); the key id
--    is kept beside it so keys can rotate. No plaintext password is ever stored.
-- 2. email_suppressions: a manual reason (added by an admin through the API), and an id, so the
--    list pages by (created_at, id) like the others and one entry can be named in a URL.

CREATE TABLE email_smtp_settings (
  tenant_id uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
  host text NOT NULL CONSTRAINT email_smtp_settings_host_valid CHECK (host ~ '^[A-Za-z0-9.:\[\]-]{1,253}$'),
  port integer NOT NULL CONSTRAINT email_smtp_settings_port_valid CHECK (port BETWEEN 1 AND 65535),
  -- none: plain SMTP; starttls: upgrade required (the server must offer it); tls: TLS from the first byte (465).
  security text NOT NULL CONSTRAINT email_smtp_settings_security_valid CHECK (security IN ('none', 'starttls', 'tls')),
  username text CONSTRAINT email_smtp_settings_username_length CHECK (length(username) BETWEEN 1 AND 320),
  password_key_id text CONSTRAINT email_smtp_settings_key_id_format CHECK (password_key_id ~ '^[A-Za-z0-9._-]{1,64}$'),
  -- nonce (12 bytes) | ciphertext | tag (16 bytes)
  password_sealed bytea CONSTRAINT email_smtp_settings_password_sealed_length CHECK (length(password_sealed) BETWEEN 29 AND 2048),
  from_address text NOT NULL CONSTRAINT email_smtp_settings_from_address_length CHECK (length(from_address) BETWEEN 3 AND 320),
  from_name text CONSTRAINT email_smtp_settings_from_name_length CHECK (length(from_name) BETWEEN 1 AND 200),
  updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  -- A password is sealed with a key: both or neither. A password needs a user to log in with.
  CONSTRAINT email_smtp_settings_password_whole CHECK ((password_key_id IS NULL) = (password_sealed IS NULL)),
  CONSTRAINT email_smtp_settings_password_has_user CHECK (password_sealed IS NULL OR username IS NOT NULL)
);

ALTER TABLE email_smtp_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE email_smtp_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON email_smtp_settings USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON email_smtp_settings TO bi_app;

ALTER TABLE email_suppressions DROP CONSTRAINT email_suppressions_reason_valid;
ALTER TABLE email_suppressions ADD CONSTRAINT email_suppressions_reason_valid CHECK (reason IN ('bounced', 'unsubscribed', 'manual'));
ALTER TABLE email_suppressions ADD COLUMN id uuid NOT NULL DEFAULT gen_random_uuid();
ALTER TABLE email_suppressions ADD CONSTRAINT email_suppressions_id_unique UNIQUE (tenant_id, id);
-- The list, newest first (api/routes/keyset-page.ts).
CREATE INDEX email_suppressions_created_idx ON email_suppressions (tenant_id, created_at DESC, id DESC);
