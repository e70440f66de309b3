-- The identity merge (activities/data-integrity/merge-leads.ts) moves every row that references a
-- merged lead onto the kept one, found through the catalogue of foreign keys onto leads, and its undo
-- moves them back. The tables added since migration 018 that reference leads need the same grant as
-- lead_messages, or a merge fails on them: sequence enrolments and schedule follow-ups.
GRANT UPDATE (lead_id) ON email_enrollments, schedule_follow_ups TO bi_maintenance;
