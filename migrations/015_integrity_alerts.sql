-- Data integrity raises a platform event for each critical finding the previous run of its scope
-- did not have (activities/data-integrity/alert-new-critical.ts).
ALTER TABLE platform_events DROP CONSTRAINT platform_events_kind_valid;
ALTER TABLE platform_events ADD CONSTRAINT platform_events_kind_valid CHECK (kind IN (
  'backup.completed', 'backup.failed', 'restore.completed', 'restore.failed', 'drill.passed', 'drill.failed', 'retention.applied',
  'lead.dead_lettered', 'integrity.critical_finding'));
