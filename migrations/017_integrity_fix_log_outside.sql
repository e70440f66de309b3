-- Data integrity: a fix may also change the bucket (an unclaimed object moved to quarantine) or
-- Temporal (a stray lead workflow terminated). The fix log records those beside the rows, in the
-- same sequence: such an entry names no table, its row_key is the object key or the workflow id,
-- and its before_image says where the object went or which run was terminated.
ALTER TABLE integrity_fix_log DROP CONSTRAINT integrity_fix_log_operation_valid;
ALTER TABLE integrity_fix_log ADD CONSTRAINT integrity_fix_log_operation_valid
  CHECK (operation IN ('update', 'delete', 'quarantine-object', 'terminate-workflow'));
ALTER TABLE integrity_fix_log ALTER COLUMN table_name DROP NOT NULL, ALTER COLUMN key_column DROP NOT NULL;
ALTER TABLE integrity_fix_log ADD CONSTRAINT integrity_fix_log_row_names_table
  CHECK ((operation IN ('update', 'delete')) = (table_name IS NOT NULL AND key_column IS NOT NULL));

-- The fix for an image whose object is missing deletes the image row (products referencing it are
-- cleared first, through the image_id update granted in 014; an undo re-inserts the row).
GRANT DELETE ON bot_images TO bi_maintenance;
