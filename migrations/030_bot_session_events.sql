-- The connection history of each bot's WhatsApp session: every state change its bot pod saw
-- (connecting, open, close with the disconnect reason, logged out, pairing), reported by the pod
-- through the platform worker (the pod holds no database credentials). The id is chosen by the
-- pod, so an event delivered twice is stored once. Append-only for the application.

CREATE TABLE bot_session_events (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  bot_id uuid NOT NULL,
  kind text NOT NULL CONSTRAINT bot_session_events_kind_valid CHECK (kind IN ('connecting', 'open', 'close', 'logged_out', 'pairing')),
  reason text CONSTRAINT bot_session_events_reason_length CHECK (length(reason) BETWEEN 1 AND 500),
  -- Baileys' DisconnectReason code of a close (401 logged out, 515 restart required, ...).
  status_code integer CONSTRAINT bot_session_events_status_code_range CHECK (status_code BETWEEN 100 AND 999),
  -- When the pod saw it; created_at is when the platform stored it.
  occurred_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- The history goes with its bot.
  CONSTRAINT bot_session_events_bot_fk FOREIGN KEY (tenant_id, bot_id) REFERENCES bots (tenant_id, id) ON DELETE CASCADE
);
-- The history route's keyset order, newest first.
CREATE INDEX bot_session_events_bot_idx ON bot_session_events (tenant_id, bot_id, occurred_at DESC, id DESC);

ALTER TABLE bot_session_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE bot_session_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON bot_session_events USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());

GRANT SELECT, INSERT ON bot_session_events TO bi_app;
-- Retention and the tenant's removal delete by policy.
GRANT DELETE ON bot_session_events TO bi_maintenance;
