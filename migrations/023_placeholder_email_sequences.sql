-- Placeholder for migration 023 (email sequence definitions and enrolments, another branch of issue 17):
-- the runner allows no gaps. Dropped at the merge in favour of that branch's 023.
SELECT 1;
