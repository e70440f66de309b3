-- Dead letters: an inbound message the lead conversation could not ingest (a non-retryable error,
-- or retries exhausted) is kept here instead of failing the workflow, and can be replayed through
-- the API once its cause is fixed. The other messages of the lead go on.

CREATE TABLE dead_letters (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL,
  bot_id uuid NOT NULL,
  wa_message_id text NOT NULL CONSTRAINT dead_letters_wa_message_id_length CHECK (length(wa_message_id) BETWEEN 1 AND 128),
  -- The InboundMessage exactly as the bot pod delivered it: a replay re-delivers this.
  message jsonb NOT NULL CONSTRAINT dead_letters_message_object CHECK (jsonb_typeof(message) = 'object'),
  reason text NOT NULL CONSTRAINT dead_letters_reason_length CHECK (length(reason) BETWEEN 1 AND 2000),
  -- How often the message landed here: 1, plus one for each replay that failed again.
  attempts integer NOT NULL DEFAULT 1 CONSTRAINT dead_letters_attempts_positive CHECK (attempts >= 1),
  status text NOT NULL DEFAULT 'pending' CONSTRAINT dead_letters_status_valid CHECK (status IN ('pending', 'replayed')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  -- The last replay; kept when a replayed message fails again (status back to pending).
  replayed_at timestamptz,
  CONSTRAINT dead_letters_replayed_has_time CHECK (status <> 'replayed' OR replayed_at IS NOT NULL),
  -- A dead letter is its bot's: it goes with the bot.
  CONSTRAINT dead_letters_bot_fk FOREIGN KEY (tenant_id, bot_id) REFERENCES bots (tenant_id, id) ON DELETE CASCADE,
  -- One row per WhatsApp message, however often it fails.
  CONSTRAINT dead_letters_message_unique UNIQUE (tenant_id, bot_id, wa_message_id)
);
CREATE TRIGGER dead_letters_touch BEFORE UPDATE ON dead_letters FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
CREATE INDEX dead_letters_created_idx ON dead_letters (tenant_id, created_at DESC, id);

ALTER TABLE dead_letters ENABLE ROW LEVEL SECURITY;
ALTER TABLE dead_letters FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON dead_letters USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());

GRANT SELECT, INSERT, UPDATE, DELETE ON dead_letters TO bi_app;
GRANT DELETE ON dead_letters TO bi_maintenance;

-- A dead letter alerts platform admins too (the tenant sees its audit row and the API list).
ALTER TABLE platform_events DROP CONSTRAINT platform_events_kind_valid;
ALTER TABLE platform_events ADD CONSTRAINT platform_events_kind_valid CHECK (kind IN (
  'backup.completed', 'backup.failed', 'restore.completed', 'restore.failed', 'drill.passed', 'drill.failed', 'retention.applied',
  'lead.dead_lettered'));

-- Lead resolution looks a person up by phone as well as by key and lid.
CREATE INDEX leads_phone_idx ON leads (tenant_id, bot_id, phone_e164) WHERE phone_e164 IS NOT NULL;
