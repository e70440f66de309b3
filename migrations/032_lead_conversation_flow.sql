-- The seeds' full message flow (audit report 2.1, issue 18).
-- 1. Info complete -> qualify: a bot may qualify a lead once it has given every detail the bot collects,
--    whatever its score. The ingest marks such a lead (leads.qualified_on_info, sticky); the one
--    qualification trigger counts the mark beside the threshold, so the lead.qualified event, the
--    stage move and the owner notification stay on their single path.
-- 2. Messages that are not text (voice note, sticker, location, uncaptioned image...) are stored as
--    messages of their kind and get the bot's non-text reply (null: the platform's default text).
-- 3. Product images by keyword: one row per (inbound message, image) claims a send; the ingest claims
--    an image only when the lead has no row for it that day (under the lead's row lock, which the
--    ingest holds), so an image goes to a lead at most once a day. The claiming message keys the send:
--    a retried ingest finds its claim again, and the bot pod's sent-log dedups the send itself. Not
--    unique per (lead, image, day): an approved merge of two leads moves both leads' rows onto one.

ALTER TABLE bots
  ADD COLUMN qualify_when_info_complete boolean NOT NULL DEFAULT false,
  ADD COLUMN non_text_reply text CONSTRAINT bots_non_text_reply_length CHECK (length(non_text_reply) BETWEEN 1 AND 1000);

ALTER TABLE leads ADD COLUMN qualified_on_info boolean NOT NULL DEFAULT false;
-- An approved identity merge keeps the mark of either lead, and its undo restores it.
GRANT UPDATE (qualified_on_info) ON leads TO bi_maintenance;

ALTER TABLE lead_messages ADD COLUMN kind text NOT NULL DEFAULT 'text'
  CONSTRAINT lead_messages_kind_valid CHECK (kind IN ('text', 'audio', 'image', 'video', 'sticker', 'location', 'document'));

CREATE OR REPLACE FUNCTION leads_qualification() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
  threshold integer;
BEGIN
  SELECT qualification_threshold INTO threshold FROM bots WHERE tenant_id = NEW.tenant_id AND id = NEW.bot_id;
  NEW.is_qualified := threshold IS NOT NULL AND (NEW.score >= threshold OR NEW.qualified_on_info);
  IF NEW.is_qualified AND TG_OP = 'INSERT' AND current_user = 'bi_maintenance' AND NEW.qualified_at IS NOT NULL THEN
    NULL; -- an undo re-inserting a logged lead: it was qualified then, not now
  ELSIF NEW.is_qualified AND (TG_OP = 'INSERT' OR NOT OLD.is_qualified) THEN
    NEW.qualified_at := now();
  ELSIF NOT NEW.is_qualified THEN
    NEW.qualified_at := NULL;
  END IF;
  RETURN NEW;
END $$;

-- A threshold change leaves a lead qualified on its details qualified.
CREATE OR REPLACE FUNCTION bots_requalify_leads() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
  UPDATE leads SET is_qualified = NOT is_qualified
   WHERE tenant_id = NEW.tenant_id AND bot_id = NEW.id
     AND is_qualified IS DISTINCT FROM (score >= NEW.qualification_threshold OR qualified_on_info);
  RETURN NULL;
END $$;

-- The mark alone (no score change) must raise the event too.
DROP TRIGGER leads_qualified_on_update ON leads;
CREATE TRIGGER leads_qualified_on_update AFTER UPDATE OF score, is_qualified, qualified_on_info ON leads
  FOR EACH ROW WHEN (NEW.is_qualified AND NOT OLD.is_qualified) EXECUTE FUNCTION leads_on_qualified();

CREATE TABLE lead_image_sends (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  bot_id uuid NOT NULL,
  lead_id uuid NOT NULL,
  image_id uuid NOT NULL,
  -- The day of the inbound message (UTC) the image answered.
  sent_on date NOT NULL,
  -- The inbound message whose keyword claimed the send: the send's idempotency key.
  wa_message_id text NOT NULL CONSTRAINT lead_image_sends_wa_message_id_length CHECK (length(wa_message_id) BETWEEN 1 AND 128),
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT lead_image_sends_lead_fk FOREIGN KEY (tenant_id, bot_id, lead_id) REFERENCES leads (tenant_id, bot_id, id) ON DELETE CASCADE,
  -- A deleted image takes its send history with it.
  CONSTRAINT lead_image_sends_image_fk FOREIGN KEY (tenant_id, image_id) REFERENCES bot_images (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT lead_image_sends_claim_unique UNIQUE (tenant_id, bot_id, wa_message_id, image_id)
);
CREATE INDEX lead_image_sends_lead_idx ON lead_image_sends (tenant_id, bot_id, lead_id, image_id, sent_on);
CREATE INDEX lead_image_sends_image_idx ON lead_image_sends (tenant_id, image_id);

ALTER TABLE lead_image_sends ENABLE ROW LEVEL SECURITY;
ALTER TABLE lead_image_sends FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON lead_image_sends USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());
GRANT SELECT, INSERT, DELETE ON lead_image_sends TO bi_app;
-- An approved identity merge moves the merged lead's rows; retention and erasure delete by policy.
GRANT UPDATE (lead_id) ON lead_image_sends TO bi_app, bi_maintenance;
GRANT DELETE ON lead_image_sends TO bi_maintenance;
