-- The audit trail (GET /tenants/{id}/audit, docs/audit.md) lists rows by time:
-- 1. Rows written in one transaction all took its start time (now()), so a lead's update could be
--    listed before its insert. Each row now takes the time it is written.
-- 2. An update that changes nothing but updated_at is not a change of the row: it is no longer
--    recorded (the trail of a three-message conversation held 11 lead updates, some of them such).
ALTER TABLE data_change_audit ALTER COLUMN changed_at SET DEFAULT clock_timestamp();
ALTER TABLE audit_logs ALTER COLUMN created_at SET DEFAULT clock_timestamp();

CREATE OR REPLACE FUNCTION record_data_change() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
  left_out text[] := coalesce(TG_ARGV, '{}');
  old_row jsonb := CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) - left_out END;
  new_row jsonb := CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) - left_out END;
  row_data jsonb := coalesce(new_row, old_row);
BEGIN
  -- Compared with the secrets in: a rotated secret is a change, recorded without its values.
  IF TG_OP = 'UPDATE' AND to_jsonb(OLD) - 'updated_at' = to_jsonb(NEW) - 'updated_at' THEN
    RETURN NULL;
  END IF;
  INSERT INTO data_change_audit (tenant_id, table_name, record_id, operation, old_values, new_values, changed_by)
  VALUES ((row_data ->> 'tenant_id')::uuid, TG_TABLE_NAME, (row_data ->> 'id')::uuid, TG_OP, old_row, new_row,
          coalesce(nullif(current_setting('app.actor', true), ''), current_user));
  RETURN NULL;
END $$;
