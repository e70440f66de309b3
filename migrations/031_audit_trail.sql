-- The readable audit trail (GET /tenants/:tenantId/audit, GET /audit): indexes for its pages, and
-- no webhook secret stored in it.
--
-- Pages go newest first over (time, id) on both audit tables. Without these indexes every page sorts
-- the tenant's whole trail (data_change_audit had no time index at all); with them a page reads
-- limit + 1 index entries per table. Measured on 100,000 rows: docs/audit.md. Cost: one B-tree entry
-- per audit row per index.
CREATE INDEX audit_logs_tenant_created_id_idx ON audit_logs (tenant_id, created_at DESC, id DESC);
-- The new index serves every query the old one did (retention finds a tenant's rows by time).
DROP INDEX audit_logs_tenant_idx;
CREATE INDEX audit_logs_created_id_idx ON audit_logs (created_at DESC, id DESC);
CREATE INDEX data_change_audit_tenant_changed_id_idx ON data_change_audit (tenant_id, changed_at DESC, id DESC);
CREATE INDEX data_change_audit_changed_id_idx ON data_change_audit (changed_at DESC, id DESC);

-- The owner webhook's signing secret stays out of the trail, as token hashes do (migration 012):
-- the trail is tenant-readable, backed up and kept for the retention period.
DROP TRIGGER owner_webhooks_audit ON owner_webhooks;
CREATE TRIGGER owner_webhooks_audit AFTER INSERT OR UPDATE OR DELETE ON owner_webhooks
  FOR EACH ROW EXECUTE FUNCTION record_data_change('secret');
-- Secrets already in the trail are scrubbed; RLS is lifted for this one statement, as in 012.
ALTER TABLE data_change_audit NO FORCE ROW LEVEL SECURITY;
UPDATE data_change_audit SET old_values = old_values - 'secret', new_values = new_values - 'secret'
 WHERE table_name = 'owner_webhooks' AND (old_values ? 'secret' OR new_values ? 'secret');
ALTER TABLE data_change_audit FORCE ROW LEVEL SECURITY;
