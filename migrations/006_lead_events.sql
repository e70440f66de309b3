-- Events for a tenant's owners (lead qualified, ...), written in the same transaction as the change
-- that causes them: the API's SSE stream reads them in order and resumes from Last-Event-ID.

CREATE TABLE lead_events (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- Ordered, resumable cursor for Server-Sent Events.
  sequence bigint GENERATED ALWAYS AS IDENTITY,
  tenant_id uuid NOT NULL,
  lead_id uuid NOT NULL,
  kind text NOT NULL CONSTRAINT lead_events_kind_valid CHECK (kind IN ('lead.qualified')),
  payload jsonb NOT NULL DEFAULT '{}' CONSTRAINT lead_events_payload_object CHECK (jsonb_typeof(payload) = 'object'),
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT lead_events_lead_fk FOREIGN KEY (tenant_id, lead_id) REFERENCES leads (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT lead_events_sequence_unique UNIQUE (tenant_id, sequence)
);
CREATE INDEX lead_events_lead_idx ON lead_events (tenant_id, lead_id);

ALTER TABLE lead_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE lead_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON lead_events USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());

-- Events are facts: the application appends and reads them; retention deletes them.
GRANT SELECT, INSERT ON lead_events TO bi_app;
GRANT DELETE ON lead_events TO bi_maintenance;
