ALTER TABLE reporter_runs DROP COLUMN actual_duration_minutes;
ALTER TABLE reporter_runs DROP COLUMN predicted_duration_minutes;
ALTER TABLE reporter_runs DROP COLUMN predicted_browser_minutes;
