-- Pipelines, leads and their messages, stage history and schedules.

CREATE TABLE pipelines (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name text NOT NULL CONSTRAINT pipelines_name_length CHECK (length(name) BETWEEN 1 AND 200),
  is_default boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT pipelines_tenant_id_unique UNIQUE (tenant_id, id),
  CONSTRAINT pipelines_name_unique UNIQUE (tenant_id, name)
);
CREATE TRIGGER pipelines_touch BEFORE UPDATE ON pipelines FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
CREATE UNIQUE INDEX pipelines_one_default ON pipelines (tenant_id) WHERE is_default;

CREATE TABLE pipeline_stages (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL,
  pipeline_id uuid NOT NULL,
  name text NOT NULL CONSTRAINT pipeline_stages_name_length CHECK (length(name) BETWEEN 1 AND 200),
  position integer NOT NULL CONSTRAINT pipeline_stages_position_non_negative CHECK (position >= 0),
  is_qualified_stage boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT pipeline_stages_pipeline_fk FOREIGN KEY (tenant_id, pipeline_id) REFERENCES pipelines (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT pipeline_stages_tenant_id_unique UNIQUE (tenant_id, id),
  CONSTRAINT pipeline_stages_pipeline_id_unique UNIQUE (tenant_id, pipeline_id, id),
  -- Deferred, so stages can be reordered in one transaction.
  CONSTRAINT pipeline_stages_position_unique UNIQUE (tenant_id, pipeline_id, position) DEFERRABLE INITIALLY DEFERRED
);
CREATE TRIGGER pipeline_stages_touch BEFORE UPDATE ON pipeline_stages FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

CREATE TABLE leads (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL,
  bot_id uuid NOT NULL,
  -- The sender as WhatsApp addresses it (user part of the JID); a phone number or an anonymous lid.
  wa_id text NOT NULL CONSTRAINT leads_wa_id_format CHECK (wa_id ~ '^[0-9A-Za-z._:-]{1,64}$'),
  phone_e164 text CONSTRAINT leads_phone_e164_format CHECK (phone_e164 ~ '^\+[1-9]\d{1,14}$'),
  lid text CONSTRAINT leads_lid_format CHECK (lid ~ '^[0-9]{1,32}$'),
  name text CONSTRAINT leads_name_length CHECK (length(name) <= 200),
  email text CONSTRAINT leads_email_format
    CHECK (email ~ '^[a-z0-9._%+-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}$' AND length(email) <= 254),
  company text CONSTRAINT leads_company_length CHECK (length(company) <= 200),
  score integer NOT NULL DEFAULT 0,
  tags text[] NOT NULL DEFAULT '{}',
  -- Derived from score and the bot's threshold by leads_qualification (never trusted from a client).
  is_qualified boolean NOT NULL DEFAULT false,
  qualified_at timestamptz,
  owner_user_id uuid,
  assigned_to_user_id uuid,
  pipeline_id uuid,
  stage_id uuid,
  last_message_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  -- A bot with leads is archived, not deleted: its conversations are the tenant's sales history.
  CONSTRAINT leads_bot_fk FOREIGN KEY (tenant_id, bot_id) REFERENCES bots (tenant_id, id) ON DELETE NO ACTION,
  -- Deleting a user keeps their leads, unowned / unassigned (only that column is cleared).
  CONSTRAINT leads_owner_user_fk FOREIGN KEY (tenant_id, owner_user_id) REFERENCES users (tenant_id, id) ON DELETE SET NULL (owner_user_id),
  CONSTRAINT leads_assigned_to_user_fk FOREIGN KEY (tenant_id, assigned_to_user_id) REFERENCES users (tenant_id, id) ON DELETE SET NULL (assigned_to_user_id),
  -- A stage or pipeline that still holds leads cannot be deleted: move the leads first.
  CONSTRAINT leads_pipeline_fk FOREIGN KEY (tenant_id, pipeline_id) REFERENCES pipelines (tenant_id, id) ON DELETE NO ACTION,
  CONSTRAINT leads_stage_fk FOREIGN KEY (tenant_id, pipeline_id, stage_id) REFERENCES pipeline_stages (tenant_id, pipeline_id, id) ON DELETE NO ACTION,
  CONSTRAINT leads_stage_needs_pipeline CHECK (stage_id IS NULL OR pipeline_id IS NOT NULL),
  CONSTRAINT leads_tenant_id_unique UNIQUE (tenant_id, id),
  CONSTRAINT leads_bot_id_unique UNIQUE (tenant_id, bot_id, id),
  CONSTRAINT leads_wa_id_unique UNIQUE (tenant_id, bot_id, wa_id)
);
CREATE TRIGGER leads_touch BEFORE UPDATE ON leads FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
CREATE INDEX leads_stage_idx ON leads (tenant_id, bot_id, stage_id);
CREATE INDEX leads_created_idx ON leads (tenant_id, created_at DESC, id);
CREATE INDEX leads_pipeline_idx ON leads (tenant_id, pipeline_id, stage_id) WHERE pipeline_id IS NOT NULL;
CREATE INDEX leads_owner_idx ON leads (tenant_id, owner_user_id) WHERE owner_user_id IS NOT NULL;
CREATE INDEX leads_assigned_idx ON leads (tenant_id, assigned_to_user_id) WHERE assigned_to_user_id IS NOT NULL;
CREATE INDEX leads_lid_idx ON leads (tenant_id, bot_id, lid) WHERE lid IS NOT NULL;

-- is_qualified always equals score >= the bot's threshold. Runs as the caller, under its RLS
-- context: the bot is always the lead's own tenant's (composite FK).
CREATE FUNCTION leads_qualification() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
  threshold integer;
BEGIN
  SELECT qualification_threshold INTO threshold FROM bots WHERE tenant_id = NEW.tenant_id AND id = NEW.bot_id;
  NEW.is_qualified := threshold IS NOT NULL AND NEW.score >= threshold;
  IF NEW.is_qualified AND (TG_OP = 'INSERT' OR NOT OLD.is_qualified) THEN
    NEW.qualified_at := now();
  ELSIF NOT NEW.is_qualified THEN
    NEW.qualified_at := NULL;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER leads_qualification BEFORE INSERT OR UPDATE ON leads FOR EACH ROW EXECUTE FUNCTION leads_qualification();

-- A threshold change re-qualifies that bot's leads in the same transaction.
CREATE FUNCTION bots_requalify_leads() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
  UPDATE leads SET is_qualified = NOT is_qualified
   WHERE tenant_id = NEW.tenant_id AND bot_id = NEW.id
     AND is_qualified IS DISTINCT FROM (score >= NEW.qualification_threshold);
  RETURN NULL;
END $$;
CREATE TRIGGER bots_requalify_leads AFTER UPDATE OF qualification_threshold ON bots
  FOR EACH ROW WHEN (OLD.qualification_threshold IS DISTINCT FROM NEW.qualification_threshold)
  EXECUTE FUNCTION bots_requalify_leads();

CREATE TABLE lead_messages (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL,
  bot_id uuid NOT NULL,
  lead_id uuid NOT NULL,
  direction text NOT NULL CONSTRAINT lead_messages_direction_valid CHECK (direction IN ('inbound', 'outbound')),
  wa_message_id text NOT NULL CONSTRAINT lead_messages_wa_message_id_length CHECK (length(wa_message_id) BETWEEN 1 AND 128),
  body text NOT NULL CONSTRAINT lead_messages_body_length CHECK (length(body) <= 65536),
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT lead_messages_lead_fk FOREIGN KEY (tenant_id, bot_id, lead_id) REFERENCES leads (tenant_id, bot_id, id) ON DELETE CASCADE,
  -- A WhatsApp message is stored once, however often it is delivered.
  CONSTRAINT lead_messages_wa_message_unique UNIQUE (tenant_id, bot_id, wa_message_id)
);
CREATE INDEX lead_messages_lead_idx ON lead_messages (tenant_id, lead_id, created_at);

CREATE TABLE lead_stage_events (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL,
  lead_id uuid NOT NULL,
  from_stage_id uuid,
  to_stage_id uuid,
  reason text CONSTRAINT lead_stage_events_reason_length CHECK (length(reason) <= 500),
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT lead_stage_events_lead_fk FOREIGN KEY (tenant_id, lead_id) REFERENCES leads (tenant_id, id) ON DELETE CASCADE,
  -- History outlives a deleted stage; only the reference is cleared.
  CONSTRAINT lead_stage_events_from_stage_fk FOREIGN KEY (tenant_id, from_stage_id) REFERENCES pipeline_stages (tenant_id, id) ON DELETE SET NULL (from_stage_id),
  CONSTRAINT lead_stage_events_to_stage_fk FOREIGN KEY (tenant_id, to_stage_id) REFERENCES pipeline_stages (tenant_id, id) ON DELETE SET NULL (to_stage_id)
);
CREATE INDEX lead_stage_events_lead_idx ON lead_stage_events (tenant_id, lead_id, created_at);
CREATE INDEX lead_stage_events_from_idx ON lead_stage_events (tenant_id, from_stage_id) WHERE from_stage_id IS NOT NULL;
CREATE INDEX lead_stage_events_to_idx ON lead_stage_events (tenant_id, to_stage_id) WHERE to_stage_id IS NOT NULL;

CREATE TABLE schedules (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL,
  bot_id uuid NOT NULL,
  created_by_user_id uuid,
  name text NOT NULL CONSTRAINT schedules_name_length CHECK (length(name) BETWEEN 1 AND 200),
  cron text NOT NULL CONSTRAINT schedules_cron_format CHECK (cron ~ '^[0-9*/,\- ]{9,100}$'),
  timezone text NOT NULL DEFAULT 'UTC' CONSTRAINT schedules_timezone_length CHECK (length(timezone) BETWEEN 1 AND 64),
  action jsonb NOT NULL CONSTRAINT schedules_action_object CHECK (jsonb_typeof(action) = 'object'),
  enabled boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT schedules_bot_fk FOREIGN KEY (tenant_id, bot_id) REFERENCES bots (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT schedules_created_by_user_fk FOREIGN KEY (tenant_id, created_by_user_id) REFERENCES users (tenant_id, id) ON DELETE SET NULL (created_by_user_id)
);
CREATE TRIGGER schedules_touch BEFORE UPDATE ON schedules FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
CREATE INDEX schedules_bot_idx ON schedules (tenant_id, bot_id);
CREATE INDEX schedules_created_by_idx ON schedules (tenant_id, created_by_user_id) WHERE created_by_user_id IS NOT NULL;
CREATE INDEX bot_features_bot_idx ON bot_features (tenant_id, bot_id);
CREATE INDEX bot_images_bot_idx ON bot_images (tenant_id, bot_id);
CREATE INDEX products_bot_idx ON products (tenant_id, bot_id);
CREATE INDEX users_tenant_idx ON users (tenant_id);
