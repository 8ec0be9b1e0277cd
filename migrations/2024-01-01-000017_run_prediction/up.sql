SET LOCAL lock_timeout = '5s';
-- The hour planner (crates/core/src/planner, docs/planner.md) predicts each
-- run's browser-minutes and wall-clock minutes when the run is created, and
-- the run's finish records how long it really took, so the console can show
-- how far off the predictions are (median absolute error and bias over 14
-- days).
--
-- Additive: nullable columns without defaults (no table rewrite); code that
-- does not know them (a rolled-back release) leaves them NULL, and the
-- planner skips runs without both numbers.
ALTER TABLE reporter_runs ADD COLUMN predicted_browser_minutes DOUBLE PRECISION;
ALTER TABLE reporter_runs ADD COLUMN predicted_duration_minutes DOUBLE PRECISION;
ALTER TABLE reporter_runs ADD COLUMN actual_duration_minutes DOUBLE PRECISION;
COMMENT ON COLUMN reporter_runs.predicted_browser_minutes IS 'Planner: browser-minutes the run was predicted to need when it was created (NULL: not predicted)';
COMMENT ON COLUMN reporter_runs.predicted_duration_minutes IS 'Planner: wall-clock minutes the run was predicted to take when it was created (NULL: not predicted)';
COMMENT ON COLUMN reporter_runs.actual_duration_minutes IS 'finished_at - started_at in minutes, written when the run finishes (NULL: unfinished, or finished by code older than the planner)';
