-- Placeholder on the email branch only: number 021 belongs to the data-retention work of issue 17,
-- merged beside this branch. The lead replaces this file with that migration when merging.
SELECT 1;
