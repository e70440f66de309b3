-- Owner notifications and lead identity.
-- 1. A lead that becomes qualified, by any path (a scored message, a lowered threshold), gets its
--    owner event and its move to the qualified stage in the same transaction, from one trigger.
-- 2. Owner webhooks: where qualification events are POSTed, signed with the webhook's secret.
-- 3. One lead per WhatsApp lid and bot, so a lid can never point at two leads.
-- 4. Per-tenant lead fields (the details the bot collects) are checked like the other settings.

CREATE FUNCTION leads_on_qualified() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
  target_pipeline uuid;
  target_stage uuid;
BEGIN
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

CREATE TRIGGER leads_qualified_on_insert AFTER INSERT ON leads
  FOR EACH ROW WHEN (NEW.is_qualified) EXECUTE FUNCTION leads_on_qualified();
CREATE TRIGGER leads_qualified_on_update AFTER UPDATE OF score, is_qualified ON leads
  FOR EACH ROW WHEN (NEW.is_qualified AND NOT OLD.is_qualified) EXECUTE FUNCTION leads_on_qualified();

CREATE TABLE owner_webhooks (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  url text NOT NULL CONSTRAINT owner_webhooks_url_format CHECK (url ~ '^https?://[^\s/?#]+[^\s]*$' AND length(url) <= 2048),
  -- The HMAC-SHA256 key: the receiver checks every request with it. Never returned after creation.
  secret text NOT NULL CONSTRAINT owner_webhooks_secret_length CHECK (length(secret) BETWEEN 32 AND 256),
  active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT owner_webhooks_tenant_id_unique UNIQUE (tenant_id, id),
  CONSTRAINT owner_webhooks_url_unique UNIQUE (tenant_id, url)
);
CREATE TRIGGER owner_webhooks_touch BEFORE UPDATE ON owner_webhooks FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
CREATE TRIGGER owner_webhooks_audit AFTER INSERT OR UPDATE OR DELETE ON owner_webhooks FOR EACH ROW EXECUTE FUNCTION record_data_change();

ALTER TABLE owner_webhooks ENABLE ROW LEVEL SECURITY;
ALTER TABLE owner_webhooks FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON owner_webhooks USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON owner_webhooks TO bi_app;
GRANT DELETE ON owner_webhooks TO bi_maintenance;

DROP INDEX leads_lid_idx;
CREATE UNIQUE INDEX leads_lid_unique ON leads (tenant_id, bot_id, lid) WHERE lid IS NOT NULL;

ALTER TABLE tenants ADD CONSTRAINT tenants_settings_lead_fields CHECK (
  NOT settings ? 'leadFields' OR (jsonb_typeof(settings -> 'leadFields') = 'array'
    AND settings -> 'leadFields' <@ '["name", "email", "company"]'::jsonb));
