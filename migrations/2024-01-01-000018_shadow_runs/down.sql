DROP TABLE IF EXISTS reporter_shadow_reports;
ALTER TABLE users DROP COLUMN IF EXISTS reporter_report_mode;
ALTER TABLE reporter_run_users DROP COLUMN IF EXISTS report_mode;
ALTER TABLE reporter_runs DROP COLUMN IF EXISTS report_mode;
