-- Audit trail. Neither table has a foreign key to tenants on purpose: the record of what happened
-- must outlive the rows it describes; the retention workflow removes it when the tenant's settings say.

CREATE TABLE audit_logs (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL,
  actor text NOT NULL CONSTRAINT audit_logs_actor_length CHECK (length(actor) BETWEEN 1 AND 200),
  action text NOT NULL CONSTRAINT audit_logs_action_format CHECK (action ~ '^[a-z][a-z0-9_.-]{0,99}$'),
  details jsonb NOT NULL DEFAULT '{}' CONSTRAINT audit_logs_details_object CHECK (jsonb_typeof(details) = 'object'),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_logs_tenant_idx ON audit_logs (tenant_id, created_at DESC);

CREATE TABLE data_change_audit (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL,
  table_name text NOT NULL,
  record_id uuid NOT NULL,
  operation text NOT NULL CONSTRAINT data_change_audit_operation_valid CHECK (operation IN ('INSERT', 'UPDATE', 'DELETE')),
  old_values jsonb,
  new_values jsonb,
  changed_by text NOT NULL,
  changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX data_change_audit_record_idx ON data_change_audit (tenant_id, table_name, record_id, changed_at);

CREATE FUNCTION record_data_change() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
  old_row jsonb := CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END;
  new_row jsonb := CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END;
  row_data jsonb := coalesce(new_row, old_row);
BEGIN
  INSERT INTO data_change_audit (tenant_id, table_name, record_id, operation, old_values, new_values, changed_by)
  VALUES ((row_data ->> 'tenant_id')::uuid, TG_TABLE_NAME, (row_data ->> 'id')::uuid, TG_OP, old_row, new_row,
          coalesce(nullif(current_setting('app.actor', true), ''), current_user));
  RETURN NULL;
END $$;

CREATE TRIGGER leads_audit AFTER INSERT OR UPDATE OR DELETE ON leads FOR EACH ROW EXECUTE FUNCTION record_data_change();
CREATE TRIGGER products_audit AFTER INSERT OR UPDATE OR DELETE ON products FOR EACH ROW EXECUTE FUNCTION record_data_change();
CREATE TRIGGER scoring_rules_audit AFTER INSERT OR UPDATE OR DELETE ON scoring_rules FOR EACH ROW EXECUTE FUNCTION record_data_change();
CREATE TRIGGER pipelines_audit AFTER INSERT OR UPDATE OR DELETE ON pipelines FOR EACH ROW EXECUTE FUNCTION record_data_change();
CREATE TRIGGER pipeline_stages_audit AFTER INSERT OR UPDATE OR DELETE ON pipeline_stages FOR EACH ROW EXECUTE FUNCTION record_data_change();
