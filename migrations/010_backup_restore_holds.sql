-- A restore holds its backup until it ends, so retention cannot delete the objects it is reading
-- or waiting (for an approval) to read. The hold expires on its own: a restore that was
-- terminated, and so never released it, does not keep a backup forever.
ALTER TABLE backups
  ADD COLUMN held_by text,
  ADD COLUMN held_until timestamptz,
  ADD CONSTRAINT backups_hold_complete CHECK ((held_by IS NULL) = (held_until IS NULL));
