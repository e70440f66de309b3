-- The audit trail (GET /tenants/{id}/audit, docs/audit.md) lists rows by time. Rows written in one
-- transaction all took its start time (now()), so a lead's update could be listed before its
-- insert. Each row now takes the time it is written. (audit-completeness still holds: a change's
-- audit row is written after its updated_at, never before.)
ALTER TABLE data_change_audit ALTER COLUMN changed_at SET DEFAULT clock_timestamp();
ALTER TABLE audit_logs ALTER COLUMN created_at SET DEFAULT clock_timestamp();
