SET LOCAL lock_timeout = '5s';
-- One row per finished prune (crates/core/src/retention): when, by which
-- beat or operator, rows deleted per table, and the error if it stopped.
-- The console shows the newest; beat reads it to prune once a day.
-- Additive: a new table that old code never reads.
CREATE TABLE IF NOT EXISTS reporter_prune_runs (
    id BIGSERIAL PRIMARY KEY,
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    by TEXT NOT NULL,
    tables JSONB NOT NULL DEFAULT '{}'::jsonb,
    error TEXT
);
COMMENT ON TABLE reporter_prune_runs IS 'Finished prunes: time, who, rows deleted per table (retention policy, docs/configuration.md)';
