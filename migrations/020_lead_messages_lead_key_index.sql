-- An index on lead_messages' foreign key to leads, in the key's column order: the hourly
-- orphaned-rows check reads the distinct keys from it (index-only) instead of the table's heap, and
-- fetches the orphans of a missing lead through it. Every other foreign key of a large table already
-- leads an index (lead_stage_events, lead_events); lead_messages_lead_idx starts (tenant_id, lead_id)
-- without bot_id, so it cannot serve the key (tenant_id, bot_id, lead_id).
-- Cost: one more B-tree entry per stored message (about 13 bytes per row after deduplication).
CREATE INDEX lead_messages_lead_key_idx ON lead_messages (tenant_id, bot_id, lead_id);
