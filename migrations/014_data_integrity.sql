-- Data integrity: every run of the checks, what it found, and every fix with the before-image of
-- each row it touched, so any fix can be undone. Platform data, like the backup catalog: written
-- and read by the maintenance role only, no grant to the application role. The tenant a finding is
-- about is `affected_tenant_id`, not `tenant_id`, so these are not tenant tables (no RLS, and one run
-- holds many tenants' findings); no foreign key to tenants: the record outlives the tenant.

CREATE TABLE integrity_runs (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  scope text NOT NULL CONSTRAINT integrity_runs_scope_format
    CHECK (scope ~ '^(platform|tenant-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$'),
  -- NULL for a platform run.
  scope_tenant_id uuid,
  workflow_id text NOT NULL CONSTRAINT integrity_runs_workflow_id_length CHECK (length(workflow_id) BETWEEN 1 AND 200),
  started_at timestamptz NOT NULL DEFAULT now(),
  -- Per check: milliseconds, findings, truncated.
  checks jsonb NOT NULL DEFAULT '{}' CONSTRAINT integrity_runs_checks_object CHECK (jsonb_typeof(checks) = 'object'),
  CONSTRAINT integrity_runs_scope_tenant CHECK ((scope = 'platform') = (scope_tenant_id IS NULL))
);
CREATE INDEX integrity_runs_scope_idx ON integrity_runs (scope, started_at DESC);

CREATE TABLE integrity_findings (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  run_id uuid NOT NULL REFERENCES integrity_runs (id) ON DELETE CASCADE,
  check_name text NOT NULL CONSTRAINT integrity_findings_check_format CHECK (check_name ~ '^[a-z][a-z0-9-]{0,99}$'),
  severity text NOT NULL CONSTRAINT integrity_findings_severity_valid CHECK (severity IN ('critical', 'warning', 'info')),
  finding_key text NOT NULL CONSTRAINT integrity_findings_key_length CHECK (length(finding_key) BETWEEN 1 AND 500),
  -- NULL for a platform-level defect (a role, a policy, a constraint).
  affected_tenant_id uuid,
  summary text NOT NULL CONSTRAINT integrity_findings_summary_length CHECK (length(summary) BETWEEN 1 AND 1000),
  details jsonb NOT NULL DEFAULT '{}' CONSTRAINT integrity_findings_details_object CHECK (jsonb_typeof(details) = 'object'),
  CONSTRAINT integrity_findings_unique UNIQUE (run_id, check_name, finding_key)
);
-- The same defect across runs (its key is stable): a waiting approval fix is not planned twice.
CREATE INDEX integrity_findings_defect_idx ON integrity_findings (check_name, finding_key);
CREATE INDEX integrity_findings_tenant_idx ON integrity_findings (affected_tenant_id, run_id) WHERE affected_tenant_id IS NOT NULL;

CREATE TABLE integrity_fixes (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- One fix per finding: a fix is planned once and moves on from there, never applied twice.
  finding_id uuid NOT NULL REFERENCES integrity_findings (id) ON DELETE CASCADE CONSTRAINT integrity_fixes_finding_unique UNIQUE,
  class text NOT NULL CONSTRAINT integrity_fixes_class_valid CHECK (class IN ('auto', 'approval')),
  status text NOT NULL DEFAULT 'planned'
    CONSTRAINT integrity_fixes_status_valid CHECK (status IN ('planned', 'approved', 'applied', 'verified', 'failed', 'expired', 'undone')),
  planned_at timestamptz NOT NULL DEFAULT now(),
  approved_by text CONSTRAINT integrity_fixes_approved_by_length CHECK (length(approved_by) BETWEEN 1 AND 200),
  applied_at timestamptz,
  verified_at timestamptz,
  undone_at timestamptz,
  failure text CONSTRAINT integrity_fixes_failure_length CHECK (length(failure) BETWEEN 1 AND 2000),
  CONSTRAINT integrity_fixes_applied_has_time CHECK (status NOT IN ('applied', 'verified') OR applied_at IS NOT NULL),
  CONSTRAINT integrity_fixes_undone_has_time CHECK (status <> 'undone' OR undone_at IS NOT NULL),
  CONSTRAINT integrity_fixes_failed_has_reason CHECK (status <> 'failed' OR failure IS NOT NULL)
);
CREATE INDEX integrity_fixes_status_idx ON integrity_fixes (status, planned_at);

-- The before-image of every row a fix touched, written in the fix's transaction before the change.
CREATE TABLE integrity_fix_log (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  fix_id uuid NOT NULL REFERENCES integrity_fixes (id) ON DELETE CASCADE,
  -- Order of the changes within the fix: an undo restores them in reverse.
  position integer NOT NULL CONSTRAINT integrity_fix_log_position_non_negative CHECK (position >= 0),
  table_name text NOT NULL CONSTRAINT integrity_fix_log_table_format CHECK (table_name ~ '^[a-z_][a-z0-9_]{0,62}$'),
  key_column text NOT NULL CONSTRAINT integrity_fix_log_key_column_format CHECK (key_column ~ '^[a-z_][a-z0-9_]{0,62}$'),
  row_key text NOT NULL,
  operation text NOT NULL CONSTRAINT integrity_fix_log_operation_valid CHECK (operation IN ('update', 'delete')),
  -- The columns an update changed (an undo restores just those); empty for a delete.
  columns text[] NOT NULL DEFAULT '{}',
  before_image jsonb NOT NULL CONSTRAINT integrity_fix_log_before_image_object CHECK (jsonb_typeof(before_image) = 'object'),
  CONSTRAINT integrity_fix_log_position_unique UNIQUE (fix_id, position)
);

GRANT SELECT, INSERT ON integrity_runs, integrity_findings, integrity_fix_log TO bi_maintenance;
GRANT SELECT, INSERT, UPDATE ON integrity_fixes TO bi_maintenance;

-- What the fixes change, and no more (maintenance otherwise never updates): a product's image
-- reference; and what an undo restores: a deleted orphan row (re-inserted), the image reference.
GRANT UPDATE (image_id) ON products TO bi_maintenance;
GRANT INSERT ON
  users, bots, bot_features, bot_images, products, scoring_rules, pipelines, pipeline_stages,
  leads, lead_messages, lead_stage_events, lead_events, schedules, owner_webhooks, dead_letters
  TO bi_maintenance;
