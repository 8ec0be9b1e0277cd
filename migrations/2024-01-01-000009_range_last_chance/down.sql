ALTER TABLE reporter_ranges DROP COLUMN last_chance_at;
