-- Tenant delete (docs/tenant-delete.md, issue 18).
-- 1. tenant_tombstones: what stays of a deleted tenant, one row per tenant id. It has no tenant_id
--    column on purpose: it outlives every tenant row, and "no row of the tenant in any table with
--    tenant_id" stays true after a delete. It keeps the slug (a technical name) but only a hash of
--    the display name, which may be a person's name (a sole trader): a later question "was tenant
--    X deleted?" is answered without keeping personal data.
-- 2. The delete runs as the maintenance role (BYPASSRLS: it reads and deletes across every table of
--    one tenant, audit and integrity records included), so it gets DELETE on every table with a
--    tenant_id column, derived from the catalogue. A later table with tenant_id needs its own grant;
--    test/tenant-delete.test.ts fails until it has one.

CREATE TABLE tenant_tombstones (
  -- The deleted tenant's id; the workflow is tenant-delete/<id>.
  id uuid PRIMARY KEY,
  slug text NOT NULL CONSTRAINT tenant_tombstones_slug_length CHECK (length(slug) BETWEEN 1 AND 100),
  -- sha256 of the tenant's name, hex.
  name_hash text NOT NULL CONSTRAINT tenant_tombstones_name_hash_format CHECK (name_hash ~ '^[0-9a-f]{64}$'),
  -- Rows deleted per table, objects deleted (count, bytes), Schedules deleted, workflows terminated.
  counts jsonb NOT NULL CONSTRAINT tenant_tombstones_counts_object CHECK (jsonb_typeof(counts) = 'object'),
  -- The session snapshot kept past the delete (outside tenants/), or why there is none.
  session_snapshot jsonb NOT NULL CONSTRAINT tenant_tombstones_snapshot_object CHECK (jsonb_typeof(session_snapshot) = 'object'),
  deleted_by text NOT NULL CONSTRAINT tenant_tombstones_deleted_by_length CHECK (length(deleted_by) BETWEEN 1 AND 200),
  requested_at timestamptz NOT NULL,
  rows_deleted_at timestamptz NOT NULL DEFAULT now(),
  -- Set once the tenant's objects are gone too.
  completed_at timestamptz
);
GRANT SELECT, INSERT, UPDATE ON tenant_tombstones TO bi_maintenance;
GRANT SELECT ON tenant_tombstones TO bi_app;

DO $$
DECLARE
  tenant_table regclass;
BEGIN
  FOR tenant_table IN
    SELECT c.oid::regclass FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relkind = 'r'
       AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
  LOOP
    EXECUTE format('GRANT SELECT, DELETE ON %s TO bi_maintenance', tenant_table);
  END LOOP;
END $$;
GRANT DELETE ON tenants TO bi_maintenance;
