ALTER TABLE reporter_ranges DROP COLUMN failures;
