-- Data integrity: the identity merge of two leads and the lead-stage fix (issue 16).
-- 1. A fix may insert a row (the stage event that says why a lead moved): the fix log records it
--    (its image after the insert) so an undo deletes it again.
-- 2. What the merge and the stage fix change, and what their undo restores, granted column by column.
-- 3. A lead inserted by bi_maintenance is an undo restoring a before-image, not a new lead: it
--    keeps its logged qualified_at and raises no second `lead.qualified` event or stage move.

ALTER TABLE integrity_fix_log DROP CONSTRAINT integrity_fix_log_operation_valid;
ALTER TABLE integrity_fix_log ADD CONSTRAINT integrity_fix_log_operation_valid
  CHECK (operation IN ('insert', 'update', 'delete', 'quarantine-object', 'terminate-workflow'));
ALTER TABLE integrity_fix_log DROP CONSTRAINT integrity_fix_log_row_names_table;
ALTER TABLE integrity_fix_log ADD CONSTRAINT integrity_fix_log_row_names_table
  CHECK ((operation IN ('insert', 'update', 'delete')) = (table_name IS NOT NULL AND key_column IS NOT NULL));
COMMENT ON COLUMN integrity_fix_log.before_image IS 'The row before an update or delete; for an insert, the inserted row (an undo deletes it).';

GRANT UPDATE (lead_id) ON lead_messages, lead_stage_events, lead_events TO bi_maintenance;
GRANT UPDATE (phone_e164, lid, name, email, company, score, tags, is_qualified, qualified_at, owner_user_id,
              assigned_to_user_id, pipeline_id, stage_id, last_message_at) ON leads TO bi_maintenance;

CREATE OR REPLACE FUNCTION leads_qualification() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
  threshold integer;
BEGIN
  SELECT qualification_threshold INTO threshold FROM bots WHERE tenant_id = NEW.tenant_id AND id = NEW.bot_id;
  NEW.is_qualified := threshold IS NOT NULL AND NEW.score >= threshold;
  IF NEW.is_qualified AND TG_OP = 'INSERT' AND current_user = 'bi_maintenance' AND NEW.qualified_at IS NOT NULL THEN
    NULL; -- an undo re-inserting a logged lead: it was qualified then, not now
  ELSIF NEW.is_qualified AND (TG_OP = 'INSERT' OR NOT OLD.is_qualified) THEN
    NEW.qualified_at := now();
  ELSIF NOT NEW.is_qualified THEN
    NEW.qualified_at := NULL;
  END IF;
  RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION leads_on_qualified() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
  target_pipeline uuid;
  target_stage uuid;
BEGIN
  -- An undo re-inserting a logged lead: its event and stage move happened when it first qualified.
  IF TG_OP = 'INSERT' AND current_user = 'bi_maintenance' THEN
    RETURN NULL;
  END IF;

  INSERT INTO lead_events (tenant_id, lead_id, kind, payload)
  VALUES (NEW.tenant_id, NEW.id, 'lead.qualified',
          jsonb_build_object('botId', NEW.bot_id, 'waId', NEW.wa_id, 'score', NEW.score));

  SELECT s.pipeline_id, s.id INTO target_pipeline, target_stage
    FROM pipelines p
    JOIN pipeline_stages s ON s.tenant_id = p.tenant_id AND s.pipeline_id = p.id AND s.is_qualified_stage
   WHERE p.tenant_id = NEW.tenant_id
     AND p.id = coalesce(NEW.pipeline_id, (SELECT d.id FROM pipelines d WHERE d.tenant_id = NEW.tenant_id AND d.is_default))
   ORDER BY s.position LIMIT 1;

  IF target_stage IS NOT NULL AND NEW.stage_id IS DISTINCT FROM target_stage THEN
    -- Re-enters the leads triggers with is_qualified unchanged, so this branch runs once.
    UPDATE leads SET pipeline_id = target_pipeline, stage_id = target_stage WHERE tenant_id = NEW.tenant_id AND id = NEW.id;
    INSERT INTO lead_stage_events (tenant_id, lead_id, from_stage_id, to_stage_id, reason)
    VALUES (NEW.tenant_id, NEW.id, NEW.stage_id, target_stage, 'qualified');
  END IF;
  RETURN NULL;
END $$;

-- 4. Evidence that a phone and a lid are one person: a message that carried both while they belonged
--    to two leads of the bot (leads are never merged on arrival). The duplicate-lead-identity check
--    reads it; a merge approved by a person joins the leads. Facts: appended, never rewritten.
CREATE TABLE lead_identity_pairings (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL,
  bot_id uuid NOT NULL,
  phone_e164 text NOT NULL CONSTRAINT lead_identity_pairings_phone_format CHECK (phone_e164 ~ '^\+[1-9]\d{1,14}$'),
  lid text NOT NULL CONSTRAINT lead_identity_pairings_lid_format CHECK (lid ~ '^[0-9]{1,32}$'),
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT lead_identity_pairings_bot_fk FOREIGN KEY (tenant_id, bot_id) REFERENCES bots (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT lead_identity_pairings_unique UNIQUE (tenant_id, bot_id, lid, phone_e164)
);
CREATE INDEX lead_identity_pairings_phone_idx ON lead_identity_pairings (tenant_id, bot_id, phone_e164);

ALTER TABLE lead_identity_pairings ENABLE ROW LEVEL SECURITY;
ALTER TABLE lead_identity_pairings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON lead_identity_pairings USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());
GRANT SELECT, INSERT ON lead_identity_pairings TO bi_app;
GRANT DELETE ON lead_identity_pairings TO bi_maintenance;
