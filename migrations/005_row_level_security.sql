-- Tenant isolation in the database: RLS enabled and FORCED (the owner is bound too) on every
-- tenant-owned table, and least privilege for the application and maintenance roles.

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bi_app') OR NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bi_maintenance') THEN
    RAISE EXCEPTION 'roles bi_app and bi_maintenance must exist before migrating (see docs/database.md, "Roles")';
  END IF;
END $$;

ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenants USING (id = app_current_tenant()) WITH CHECK (id = app_current_tenant());

DO $$
DECLARE
  tenant_table regclass;
BEGIN
  FOR tenant_table IN
    SELECT c.oid::regclass FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relkind = 'r'
       AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
  LOOP
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tenant_table);
    EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tenant_table);
    EXECUTE format('CREATE POLICY tenant_isolation ON %s USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant())', tenant_table);
  END LOOP;
END $$;

REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO bi_app, bi_maintenance;

GRANT SELECT, INSERT, UPDATE, DELETE ON
  tenants, users, bots, bot_features, bot_images, products, scoring_rules,
  pipelines, pipeline_stages, leads, lead_messages, lead_stage_events, schedules
  TO bi_app;
-- The audit trail is append-only for the application.
GRANT SELECT, INSERT ON audit_logs, data_change_audit TO bi_app;

-- Maintenance (backup, integrity, retention) reads everything and deletes by policy; it never updates.
GRANT SELECT ON ALL TABLES IN SCHEMA public TO bi_maintenance;
GRANT DELETE ON
  tenants, users, bots, bot_features, bot_images, products, scoring_rules,
  pipelines, pipeline_stages, leads, lead_messages, lead_stage_events, schedules, audit_logs, data_change_audit
  TO bi_maintenance;
GRANT INSERT ON audit_logs, data_change_audit TO bi_maintenance;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO bi_maintenance;
