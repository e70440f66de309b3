-- Data integrity, second slice: what the new fixes may change (and their undos restore), a narrow
-- way for the maintenance role to validate a NOT VALID foreign key, and the data-quality figures
-- stored with each run.

-- derived-lead-score: a lead's score and the qualification derived from it; a lead that becomes
-- qualified is moved to the qualified stage by leads_on_qualified, which runs as the caller.
GRANT UPDATE (score, is_qualified, qualified_at, pipeline_id, stage_id) ON leads TO bi_maintenance;
-- tenant-settings-schema: the settings document.
GRANT UPDATE (settings) ON tenants TO bi_maintenance;

-- VALIDATE CONSTRAINT needs the table's owner. This function runs as the owner but does exactly
-- one thing: validate one foreign key, named by table and constraint, of a table in public that its
-- owner owns (checked in the catalogue first). Names go through format('%I'), never concatenated;
-- search_path holds only pg_catalog, with pg_temp last, so no object of the caller can be picked up.
-- RLS is forced on the owner, so its validation scan sees only the rows of the tenant in context (none
-- without one): the caller proves first, as bi_maintenance (BYPASSRLS), that no row points nowhere.
CREATE FUNCTION integrity_validate_foreign_key(target_table text, target_constraint text) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_constraint c
      JOIN pg_catalog.pg_class t ON t.oid = c.conrelid
      JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
     WHERE n.nspname = 'public' AND t.relname = target_table AND c.conname = target_constraint AND c.contype = 'f'
       AND t.relowner = (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = current_user)) THEN
    RAISE EXCEPTION 'no foreign key % on a platform table %', target_constraint, target_table USING ERRCODE = 'undefined_object';
  END IF;
  EXECUTE format('ALTER TABLE public.%I VALIDATE CONSTRAINT %I', target_table, target_constraint);
END $$;
REVOKE ALL ON FUNCTION integrity_validate_foreign_key(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION integrity_validate_foreign_key(text, text) TO bi_maintenance;

-- Email completeness and phone (E.164) validity per tenant, as counts at the time of the run (the
-- ratios are computed when read). Platform data like the runs: `measured_tenant_id`, not
-- `tenant_id`, no RLS, no foreign key to tenants (the record outlives the tenant).
CREATE TABLE integrity_data_quality (
  run_id uuid NOT NULL REFERENCES integrity_runs (id) ON DELETE CASCADE,
  measured_tenant_id uuid NOT NULL,
  leads integer NOT NULL CONSTRAINT integrity_data_quality_leads_positive CHECK (leads > 0),
  leads_with_email integer NOT NULL CONSTRAINT integrity_data_quality_email_range CHECK (leads_with_email BETWEEN 0 AND leads),
  leads_with_valid_phone integer NOT NULL CONSTRAINT integrity_data_quality_phone_range CHECK (leads_with_valid_phone BETWEEN 0 AND leads),
  PRIMARY KEY (run_id, measured_tenant_id)
);
GRANT SELECT, INSERT ON integrity_data_quality TO bi_maintenance;
