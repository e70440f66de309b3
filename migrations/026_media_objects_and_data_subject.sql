-- Media objects of messages, and data-subject erasure (issue 17).
-- 1. A message may name its media object in the bucket (`tenants/<tenantId>/media/<uuid>.<ext>`,
--    core/object-keys.ts) and its content type. Nothing stores inbound media yet (issue 18); retention
--    and erasure delete the objects of the rows they delete, and the integrity checks know the claim.
-- 2. data_subject_erasures: one row per erasure request (docs/data-subject.md). It holds the
--    identifier only until the erasure completes; then a salted hash, the counts and who asked.
-- 3. Erasure deletes the identity pairings of the person, as the application role under RLS.
-- 4. Erasure redacts the person's data in the audit trail (row images, details) and in the integrity
--    records, which the application role may not update: one SECURITY DEFINER function does exactly
--    that, for the transaction's tenant only.

ALTER TABLE lead_messages
  ADD COLUMN media_object_key text,
  ADD COLUMN media_content_type text,
  ADD CONSTRAINT lead_messages_media_key_of_tenant
    CHECK (media_object_key IS NULL OR (starts_with(media_object_key, 'tenants/' || tenant_id || '/media/')
      AND length(media_object_key) <= 1024 AND strpos(media_object_key, '..') = 0)),
  ADD CONSTRAINT lead_messages_media_content_type_format
    CHECK (media_content_type IS NULL OR media_content_type ~ '^[a-z]+/[a-z0-9.+-]{1,100}$'),
  ADD CONSTRAINT lead_messages_media_complete CHECK ((media_object_key IS NULL) = (media_content_type IS NULL));
-- One object per message: deleting a message's object never takes another message's.
CREATE UNIQUE INDEX lead_messages_media_key_unique ON lead_messages (tenant_id, media_object_key) WHERE media_object_key IS NOT NULL;

CREATE TABLE data_subject_erasures (
  -- The request id: the workflow is data-subject-erasure/<tenantId>/<id>.
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  -- What was asked ({"phone": ...} or {"email": ...}), until the erasure completes.
  subject jsonb CONSTRAINT data_subject_erasures_subject_object CHECK (jsonb_typeof(subject) = 'object'),
  -- sha256 of salt:canonical identifier, hex: a restore can re-apply the erasure by matching it.
  subject_hash text NOT NULL CONSTRAINT data_subject_erasures_hash_format CHECK (subject_hash ~ '^[0-9a-f]{64}$'),
  salt text NOT NULL CONSTRAINT data_subject_erasures_salt_format CHECK (salt ~ '^[0-9a-f]{32}$'),
  status text NOT NULL DEFAULT 'pending' CONSTRAINT data_subject_erasures_status_valid CHECK (status IN ('pending', 'completed')),
  -- Rows deleted or redacted per table, and objects deleted.
  counts jsonb CONSTRAINT data_subject_erasures_counts_object CHECK (jsonb_typeof(counts) = 'object'),
  requested_by text NOT NULL CONSTRAINT data_subject_erasures_requested_by_length CHECK (length(requested_by) BETWEEN 1 AND 200),
  requested_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz,
  CONSTRAINT data_subject_erasures_completed CHECK (
    (status = 'completed') = (completed_at IS NOT NULL) AND (status = 'pending') = (subject IS NOT NULL) AND (status = 'completed') = (counts IS NOT NULL))
);
CREATE INDEX data_subject_erasures_tenant_idx ON data_subject_erasures (tenant_id, requested_at DESC);
ALTER TABLE data_subject_erasures ENABLE ROW LEVEL SECURITY;
ALTER TABLE data_subject_erasures FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON data_subject_erasures USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());
GRANT SELECT, INSERT, UPDATE ON data_subject_erasures TO bi_app;
GRANT DELETE ON data_subject_erasures TO bi_maintenance;

GRANT DELETE ON lead_identity_pairings TO bi_app;

-- Replaces the audit row images, audit details and integrity records of the current tenant that
-- name one of `lead_ids` or contain one of `needles` (the person's identifiers) by a marker; returns
-- how many rows of each table it redacted. Needles shorter than 6 characters are ignored (they would
-- match unrelated rows).
CREATE FUNCTION data_subject_redact(lead_ids uuid[], needles text[])
  RETURNS TABLE (table_name text, redacted integer)
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
  tenant uuid := app_current_tenant();
  marker jsonb := '{"redacted": "data-subject-erasure"}';
  patterns text[];
  n integer;
BEGIN
  IF tenant IS NULL THEN RAISE EXCEPTION 'data_subject_redact needs app.current_tenant'; END IF;
  SELECT coalesce(array_agg(p), '{}') INTO patterns
    FROM (SELECT DISTINCT p FROM unnest(needles || lead_ids::text[]) p WHERE length(p) >= 6) candidates;

  UPDATE data_change_audit a SET
    old_values = CASE WHEN a.old_values IS NULL THEN NULL ELSE marker END,
    new_values = CASE WHEN a.new_values IS NULL THEN NULL ELSE marker END
   WHERE a.tenant_id = tenant AND (a.old_values IS DISTINCT FROM marker OR a.new_values IS DISTINCT FROM marker)
     AND (a.record_id = ANY (lead_ids) OR EXISTS (SELECT 1 FROM unnest(patterns) p
           WHERE strpos(coalesce(a.old_values::text, '') || coalesce(a.new_values::text, ''), p) > 0));
  GET DIAGNOSTICS n = ROW_COUNT; table_name := 'data_change_audit'; redacted := n; RETURN NEXT;

  UPDATE audit_logs a SET details = marker
   WHERE a.tenant_id = tenant AND a.details <> marker AND a.action <> 'data-subject.erased'
     AND EXISTS (SELECT 1 FROM unnest(patterns) p WHERE strpos(a.details::text, p) > 0);
  GET DIAGNOSTICS n = ROW_COUNT; table_name := 'audit_logs'; redacted := n; RETURN NEXT;

  -- A finding's key names the defect across runs (e.g. a duplicated phone): it becomes its own id.
  UPDATE integrity_findings f SET summary = 'redacted: data-subject erasure', details = marker, finding_key = 'redacted:' || f.id
   WHERE f.affected_tenant_id = tenant AND f.details <> marker
     AND EXISTS (SELECT 1 FROM unnest(patterns) p WHERE strpos(f.summary || f.details::text || f.finding_key, p) > 0);
  GET DIAGNOSTICS n = ROW_COUNT; table_name := 'integrity_findings'; redacted := n; RETURN NEXT;

  -- An integrity fix that touched the person can no longer be undone: its undo would bring them back.
  UPDATE integrity_fix_log l SET before_image = marker
   WHERE l.before_image <> marker
     AND EXISTS (SELECT 1 FROM integrity_fixes x JOIN integrity_findings f ON f.id = x.finding_id
                  WHERE x.id = l.fix_id AND f.affected_tenant_id = tenant)
     AND EXISTS (SELECT 1 FROM unnest(patterns) p WHERE strpos(l.row_key || l.before_image::text, p) > 0);
  GET DIAGNOSTICS n = ROW_COUNT; table_name := 'integrity_fix_log'; redacted := n; RETURN NEXT;
END $$;
REVOKE ALL ON FUNCTION data_subject_redact(uuid[], text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION data_subject_redact(uuid[], text[]) TO bi_app;
