DROP TRIGGER IF EXISTS reporter_run_users_scheduled_at ON reporter_run_users;
DROP FUNCTION IF EXISTS reporter_run_users_copy_scheduled_at();
ALTER TABLE reporter_run_users DROP COLUMN IF EXISTS scheduled_at;
