-- A tenant schedule's `email_enrollment` action enrols the leads of a segment into a sequence
-- (activities/schedules/email-enrollment.ts):
-- 1. source 'schedule' beside 'api' and 'qualification';
-- 2. the firing that wrote the enrolment (its workflow id), so a retried firing starts the
--    workflows of the enrolments it already wrote, and enrols no lead twice.
ALTER TABLE email_enrollments DROP CONSTRAINT email_enrollments_source_valid;
ALTER TABLE email_enrollments ADD CONSTRAINT email_enrollments_source_valid CHECK (source IN ('api', 'qualification', 'schedule'));
ALTER TABLE email_enrollments ADD COLUMN schedule_firing_id text
  CONSTRAINT email_enrollments_schedule_firing_id_length CHECK (length(schedule_firing_id) BETWEEN 1 AND 300);
ALTER TABLE email_enrollments ADD CONSTRAINT email_enrollments_schedule_firing_when_scheduled
  CHECK ((source = 'schedule') = (schedule_firing_id IS NOT NULL));
CREATE INDEX email_enrollments_schedule_firing_idx ON email_enrollments (tenant_id, schedule_firing_id) WHERE schedule_firing_id IS NOT NULL;
