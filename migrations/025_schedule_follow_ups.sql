-- Scheduled WhatsApp follow-ups (workflows/schedules.ts): one row per (firing, lead) a firing's
-- segment matched, written when the firing resolves its segment. The row is the firing's worklist
-- and its sent-log: a lead is sent to only while its row is pending, so a retried activity, a
-- replayed or re-run firing never messages a lead twice. wa_message_id links the row to the outbound
-- message stored in lead_messages: the schedule is that message's origin.

CREATE TABLE schedule_follow_ups (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  -- No foreign key: what a schedule sent stays on record after the schedule is deleted.
  schedule_id uuid NOT NULL,
  -- The firing's workflow id (`schedule-run/<tenantId>/<scheduleId>-<time>`), the same across its continued runs.
  firing_id text NOT NULL CONSTRAINT schedule_follow_ups_firing_id_length CHECK (length(firing_id) BETWEEN 1 AND 300),
  bot_id uuid NOT NULL,
  lead_id uuid NOT NULL,
  status text NOT NULL DEFAULT 'pending' CONSTRAINT schedule_follow_ups_status_valid CHECK (status IN ('pending', 'sent', 'skipped', 'failed')),
  wa_message_id text CONSTRAINT schedule_follow_ups_wa_message_id_length CHECK (length(wa_message_id) BETWEEN 1 AND 128),
  -- Why a lead was skipped or failed (opted out since, bot archived, the send's error).
  detail text CONSTRAINT schedule_follow_ups_detail_length CHECK (length(detail) <= 1000),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT schedule_follow_ups_sent_has_message CHECK (status <> 'sent' OR wa_message_id IS NOT NULL),
  -- An erased or retention-deleted lead takes its follow-up rows with it.
  CONSTRAINT schedule_follow_ups_lead_fk FOREIGN KEY (tenant_id, bot_id, lead_id) REFERENCES leads (tenant_id, bot_id, id) ON DELETE CASCADE,
  CONSTRAINT schedule_follow_ups_once UNIQUE (tenant_id, firing_id, lead_id)
);
CREATE TRIGGER schedule_follow_ups_touch BEFORE UPDATE ON schedule_follow_ups FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
-- The lead foreign key's index, in its column order.
CREATE INDEX schedule_follow_ups_lead_idx ON schedule_follow_ups (tenant_id, bot_id, lead_id);
-- A firing's next pending leads.
CREATE INDEX schedule_follow_ups_pending_idx ON schedule_follow_ups (tenant_id, firing_id, id) WHERE status = 'pending';

ALTER TABLE schedule_follow_ups ENABLE ROW LEVEL SECURITY;
ALTER TABLE schedule_follow_ups FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON schedule_follow_ups USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());

GRANT SELECT, INSERT, UPDATE, DELETE ON schedule_follow_ups TO bi_app;
-- Retention and erasure delete by policy.
GRANT DELETE ON schedule_follow_ups TO bi_maintenance;
