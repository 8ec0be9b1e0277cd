SET LOCAL lock_timeout = '5s';
-- A customer's runs list (GET /api/reporter/runs/, models::run::list_for_user)
-- and the summary's latest participation order the customer's run-users by
-- their run's slot time. That time lived only on reporter_runs, so the plan
-- walked every run of the fleet newest first and probed each for the
-- customer (scripts/bench-growth.sh: 531 probes, 1,150 buffers for 30 rows).
-- The run's scheduled_at is copied onto its run-users, where an index
-- (user_id, scheduled_at) reads exactly the customer's newest rows
-- (000016). A run's scheduled_at never changes after it is created.
--
-- Additive: a nullable column that a BEFORE INSERT trigger fills, so code
-- that does not know the column (a rolled-back release) still inserts
-- run-users that have it.
ALTER TABLE reporter_run_users ADD COLUMN scheduled_at TIMESTAMPTZ;
COMMENT ON COLUMN reporter_run_users.scheduled_at IS 'Copy of the run''s scheduled_at (set by trigger on insert), so a customer''s runs are read newest first from one index';

CREATE FUNCTION reporter_run_users_copy_scheduled_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.scheduled_at IS NULL THEN
        SELECT r.scheduled_at INTO NEW.scheduled_at FROM reporter_runs r WHERE r.id = NEW.run_id;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER reporter_run_users_scheduled_at
    BEFORE INSERT ON reporter_run_users
    FOR EACH ROW EXECUTE FUNCTION reporter_run_users_copy_scheduled_at();

-- The existing rows: one per customer per day kept (runs are kept 90 days by
-- default, so ~9,000 rows at 100 customers); scripts/bench-growth.sh
-- measures this on a year that was never pruned.
UPDATE reporter_run_users u
   SET scheduled_at = r.scheduled_at
  FROM reporter_runs r
 WHERE r.id = u.run_id AND u.scheduled_at IS NULL;
