-- The daily retention prunes the operational logs by age, on every tenant at once
-- (core/data-retention/operational-logs.ts): an index on the age column of each, so a batch reads
-- only the rows it deletes.
CREATE INDEX bot_session_events_created_idx ON bot_session_events (created_at);
CREATE INDEX owner_webhook_deliveries_attempted_idx ON owner_webhook_deliveries (attempted_at);
