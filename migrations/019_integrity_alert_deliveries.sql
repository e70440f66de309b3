-- Data integrity alerts to the platform's alert webhook: one delivery per alerted finding, recorded
-- when the receiver accepted it, so a retried delivery activity never posts an accepted alert again
-- (activities/data-integrity/alert-webhook.ts). And who undid a fix, for the run history.

CREATE TABLE integrity_alert_deliveries (
  finding_id uuid PRIMARY KEY REFERENCES integrity_findings (id) ON DELETE CASCADE,
  delivered_at timestamptz NOT NULL DEFAULT now(),
  -- The HTTP status the receiver answered (2xx).
  status integer NOT NULL CONSTRAINT integrity_alert_deliveries_status_success CHECK (status BETWEEN 200 AND 299)
);

GRANT SELECT, INSERT ON integrity_alert_deliveries TO bi_maintenance;

-- The alert of a finding, looked up by its id (run history); the alerts, newest first, a page at a
-- time (GET /data-integrity/alerts): indexes, not a scan and a sort of every event.
CREATE INDEX platform_events_integrity_finding_idx ON platform_events ((payload ->> 'findingId'))
  WHERE kind = 'integrity.critical_finding';
CREATE INDEX platform_events_integrity_alerts_idx ON platform_events (created_at DESC, id DESC)
  WHERE kind = 'integrity.critical_finding';
-- A page of runs counts its findings by severity (GET /data-integrity/runs) from the index alone.
CREATE INDEX integrity_findings_run_severity_idx ON integrity_findings (run_id, severity);

ALTER TABLE integrity_fixes ADD COLUMN undone_by text
  CONSTRAINT integrity_fixes_undone_by_length CHECK (length(undone_by) BETWEEN 1 AND 200);
