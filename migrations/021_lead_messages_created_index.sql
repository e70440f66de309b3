-- Data retention deletes a tenant's messages older than its cutoff, in small batches: each batch
-- finds its rows by (tenant_id, created_at). Without this index every batch would scan the whole
-- table, so a run of N batches would read the table N times while holding its locks.
-- Cost: one more B-tree entry per stored message.
CREATE INDEX lead_messages_tenant_created_idx ON lead_messages (tenant_id, created_at);
