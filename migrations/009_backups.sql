-- Backups: the catalog of what was written to the object store, the restore drills that proved
-- them, and platform-level events (a failed backup alerts platform admins, not a tenant).

CREATE TABLE backups (
  -- <UTC start, compact ISO>-<8 random hex>: sorts by time and names the objects' prefix.
  id text PRIMARY KEY CONSTRAINT backups_id_format CHECK (id ~ '^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}$'),
  kind text NOT NULL CONSTRAINT backups_kind_valid CHECK (kind IN ('nightly', 'manual', 'safety')),
  status text NOT NULL DEFAULT 'running' CONSTRAINT backups_status_valid CHECK (status IN ('running', 'complete', 'failed', 'deleted')),
  workflow_id text NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz,
  -- Written last: a backup is complete exactly when its manifest exists.
  manifest_key text,
  total_bytes bigint CONSTRAINT backups_total_bytes_positive CHECK (total_bytes >= 0),
  failure text,
  verified_at timestamptz,
  deleted_at timestamptz,
  CONSTRAINT backups_complete_has_manifest CHECK (status <> 'complete' OR (manifest_key IS NOT NULL AND completed_at IS NOT NULL)),
  CONSTRAINT backups_verified_only_complete CHECK (verified_at IS NULL OR manifest_key IS NOT NULL),
  CONSTRAINT backups_failed_has_reason CHECK (status <> 'failed' OR failure IS NOT NULL),
  CONSTRAINT backups_deleted_has_time CHECK ((status = 'deleted') = (deleted_at IS NOT NULL))
);
CREATE INDEX backups_started_idx ON backups (started_at DESC);

CREATE TABLE backup_drills (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  backup_id text NOT NULL REFERENCES backups (id),
  workflow_id text NOT NULL,
  started_at timestamptz NOT NULL,
  finished_at timestamptz NOT NULL DEFAULT now(),
  passed boolean NOT NULL,
  -- Measured RTO: verification plus restore of the database, seconds.
  restore_seconds numeric(12, 3) CONSTRAINT backup_drills_restore_seconds_positive CHECK (restore_seconds >= 0),
  details jsonb NOT NULL DEFAULT '{}' CONSTRAINT backup_drills_details_object CHECK (jsonb_typeof(details) = 'object')
);
CREATE INDEX backup_drills_backup_idx ON backup_drills (backup_id, finished_at DESC);

CREATE TABLE platform_events (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  sequence bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT platform_events_sequence_unique UNIQUE,
  kind text NOT NULL CONSTRAINT platform_events_kind_valid CHECK (kind IN (
    'backup.completed', 'backup.failed', 'restore.completed', 'restore.failed', 'drill.passed', 'drill.failed', 'retention.applied')),
  payload jsonb NOT NULL DEFAULT '{}' CONSTRAINT platform_events_payload_object CHECK (jsonb_typeof(payload) = 'object'),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- A NULL tenant marks a platform action (backup, restore, retention); RLS keeps those rows from every tenant.
ALTER TABLE audit_logs ALTER COLUMN tenant_id DROP NOT NULL;

-- The maintenance role keeps the catalog; pg_dump (run as that role) must read sequences too.
GRANT SELECT, INSERT, UPDATE ON backups TO bi_maintenance;
GRANT SELECT, INSERT ON backup_drills, platform_events TO bi_maintenance;
GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO bi_maintenance;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON SEQUENCES TO bi_maintenance;
