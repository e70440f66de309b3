-- Email sequences, the definitions and enrolments (workflows/email-sequences.ts):
-- 1. email_sequences: a tenant's sequence (name, active flag, optional stop stage).
-- 2. email_sequence_steps: its ordered steps (position 0..999, the same number as
--    email_deliveries.step); each waits delay_seconds after the previous step's send (the first:
--    after the enrolment), then mails the rendered subject, text and HTML templates. A running
--    enrolment reads a step when it sends it, so edited steps apply to enrolments already running.
-- 3. email_enrollments: one lead in one sequence, and where it stands. At most one active or
--    paused enrolment per lead per sequence.
-- 4. bots.email_sequence_id: the sequence a lead of this bot is enrolled in when it qualifies.
-- 5. The foreign key from the sent-log (email_deliveries, migration 022) to its enrolment.

CREATE TABLE email_sequences (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name text NOT NULL CONSTRAINT email_sequences_name_length CHECK (length(name) BETWEEN 1 AND 200),
  active boolean NOT NULL DEFAULT true,
  -- A lead that reaches this stage (or a later one of its pipeline) is mailed no more.
  stop_stage_id uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT email_sequences_tenant_id_unique UNIQUE (tenant_id, id),
  CONSTRAINT email_sequences_name_unique UNIQUE (tenant_id, name),
  -- A deleted stage leaves the sequence without a stop stage, not without its enrolments.
  CONSTRAINT email_sequences_stop_stage_fk FOREIGN KEY (tenant_id, stop_stage_id)
    REFERENCES pipeline_stages (tenant_id, id) ON DELETE SET NULL (stop_stage_id)
);
CREATE TRIGGER email_sequences_touch BEFORE UPDATE ON email_sequences FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
CREATE INDEX email_sequences_stop_stage_idx ON email_sequences (tenant_id, stop_stage_id) WHERE stop_stage_id IS NOT NULL;

CREATE TABLE email_sequence_steps (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL,
  sequence_id uuid NOT NULL,
  position integer NOT NULL CONSTRAINT email_sequence_steps_position_valid CHECK (position BETWEEN 0 AND 999),
  -- Up to a year between two steps.
  delay_seconds integer NOT NULL CONSTRAINT email_sequence_steps_delay_valid CHECK (delay_seconds BETWEEN 0 AND 31536000),
  subject text NOT NULL CONSTRAINT email_sequence_steps_subject_length CHECK (length(subject) BETWEEN 1 AND 500),
  text_template text NOT NULL CONSTRAINT email_sequence_steps_text_length CHECK (length(text_template) BETWEEN 1 AND 100000),
  html_template text NOT NULL CONSTRAINT email_sequence_steps_html_length CHECK (length(html_template) BETWEEN 1 AND 200000),
  CONSTRAINT email_sequence_steps_sequence_fk FOREIGN KEY (tenant_id, sequence_id) REFERENCES email_sequences (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT email_sequence_steps_position_unique UNIQUE (tenant_id, sequence_id, position)
);

CREATE TABLE email_enrollments (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL,
  -- Kept (null) when the sequence is deleted: the enrolment and its sent-log stay as history.
  sequence_id uuid,
  lead_id uuid NOT NULL,
  -- The address mailed, lower-case, fixed at enrolment.
  address text NOT NULL CONSTRAINT email_enrollments_address_lower CHECK (address = lower(address) AND length(address) BETWEEN 3 AND 320),
  status text NOT NULL DEFAULT 'active'
    CONSTRAINT email_enrollments_status_valid CHECK (status IN ('active', 'paused', 'completed', 'stopped', 'cancelled')),
  stop_reason text CONSTRAINT email_enrollments_stop_reason_valid
    CHECK (stop_reason IN ('replied', 'stage-reached', 'unsubscribed', 'bounced', 'sequence-inactive', 'sequence-deleted')),
  -- The position of the next step to send (all sent when past the last one).
  next_step integer NOT NULL DEFAULT 0 CONSTRAINT email_enrollments_next_step_valid CHECK (next_step BETWEEN 0 AND 1000),
  source text NOT NULL CONSTRAINT email_enrollments_source_valid CHECK (source IN ('api', 'qualification')),
  enrolled_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  CONSTRAINT email_enrollments_tenant_id_unique UNIQUE (tenant_id, id),
  CONSTRAINT email_enrollments_sequence_fk FOREIGN KEY (tenant_id, sequence_id) REFERENCES email_sequences (tenant_id, id) ON DELETE SET NULL (sequence_id),
  -- An erased lead takes its enrolments (and, through them, its sent-log) with it.
  CONSTRAINT email_enrollments_lead_fk FOREIGN KEY (tenant_id, lead_id) REFERENCES leads (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT email_enrollments_stop_reason_when_stopped CHECK ((status = 'stopped') = (stop_reason IS NOT NULL)),
  CONSTRAINT email_enrollments_finished_when_ended CHECK ((status IN ('completed', 'stopped', 'cancelled')) = (finished_at IS NOT NULL))
);
CREATE TRIGGER email_enrollments_touch BEFORE UPDATE ON email_enrollments FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
CREATE UNIQUE INDEX email_enrollments_one_running ON email_enrollments (tenant_id, sequence_id, lead_id) WHERE status IN ('active', 'paused');
CREATE INDEX email_enrollments_lead_idx ON email_enrollments (tenant_id, lead_id);
CREATE INDEX email_enrollments_sequence_idx ON email_enrollments (tenant_id, sequence_id, enrolled_at DESC);
CREATE INDEX email_enrollments_address_idx ON email_enrollments (tenant_id, address) WHERE status IN ('active', 'paused');

ALTER TABLE bots ADD COLUMN email_sequence_id uuid;
-- A deleted sequence leaves the bot enrolling nobody.
ALTER TABLE bots ADD CONSTRAINT bots_email_sequence_fk FOREIGN KEY (tenant_id, email_sequence_id)
  REFERENCES email_sequences (tenant_id, id) ON DELETE SET NULL (email_sequence_id);
CREATE INDEX bots_email_sequence_idx ON bots (tenant_id, email_sequence_id) WHERE email_sequence_id IS NOT NULL;

-- No enrolment existed before this migration, so no sent-log row can be without one.
ALTER TABLE email_deliveries ADD CONSTRAINT email_deliveries_enrollment_fk FOREIGN KEY (tenant_id, enrollment_id)
  REFERENCES email_enrollments (tenant_id, id) ON DELETE CASCADE;

ALTER TABLE email_sequences ENABLE ROW LEVEL SECURITY;
ALTER TABLE email_sequences FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON email_sequences USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());
ALTER TABLE email_sequence_steps ENABLE ROW LEVEL SECURITY;
ALTER TABLE email_sequence_steps FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON email_sequence_steps USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());
ALTER TABLE email_enrollments ENABLE ROW LEVEL SECURITY;
ALTER TABLE email_enrollments FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON email_enrollments USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());

GRANT SELECT, INSERT, UPDATE, DELETE ON email_sequences, email_sequence_steps, email_enrollments TO bi_app;
-- Maintenance reads every table already (default privileges); retention and erasure delete by policy.
GRANT DELETE ON email_sequences, email_sequence_steps, email_enrollments TO bi_maintenance;
