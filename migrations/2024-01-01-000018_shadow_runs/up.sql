SET LOCAL lock_timeout = '5s';
-- Shadow runs (issue 16): a run, or one customer's part in it, that does
-- everything a live one does (login, export, compare, open every stuck
-- order's page and check its report form) but never submits a report.
-- What it would have filed goes to its own table, reporter_shadow_reports,
-- never to the ledger: a shadow check can then never count as reported and
-- never blocks a live report of the same order the same day (the ledger's
-- once-per-day key).
--
-- Additive: columns with a constant default (no table rewrite), a new
-- table. Code from before this migration creates only live runs.
ALTER TABLE reporter_runs
    ADD COLUMN report_mode TEXT NOT NULL DEFAULT 'live' CHECK (report_mode IN ('live', 'shadow'));
COMMENT ON COLUMN reporter_runs.report_mode IS 'live, or shadow: triggered as a rehearsal (reporterctl trigger-slot --shadow); every part of it is shadow';

ALTER TABLE reporter_run_users
    ADD COLUMN report_mode TEXT NOT NULL DEFAULT 'live' CHECK (report_mode IN ('live', 'shadow'));
COMMENT ON COLUMN reporter_run_users.report_mode IS 'shadow: this customer''s part checks every stuck order''s page and files nothing (decided when the run is created); customers never see shadow parts';

ALTER TABLE users
    ADD COLUMN reporter_report_mode TEXT CHECK (reporter_report_mode IN ('live', 'shadow'));
COMMENT ON COLUMN users.reporter_report_mode IS 'Overrides REPORTER_REPORT_MODE for this customer (NULL: the fleet''s mode)';

CREATE TABLE reporter_shadow_reports (
    id BIGSERIAL PRIMARY KEY,
    run_user_id BIGINT NOT NULL REFERENCES reporter_run_users(id) ON DELETE CASCADE,
    range_id BIGINT REFERENCES reporter_ranges(id) ON DELETE SET NULL,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    order_id BIGINT NOT NULL,
    business_date DATE NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('would_report', 'already_reported')),
    ticket TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT '',
    carrier TEXT NOT NULL DEFAULT '',
    tracking_number TEXT NOT NULL DEFAULT '',
    checked_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT reporter_shadow_reports_run_user_order_key UNIQUE (run_user_id, order_id)
);
COMMENT ON TABLE reporter_shadow_reports IS 'What a shadow run would have filed: one row per stuck order checked (would_report) or found already reported on the portal; never part of the ledger';
-- Deleting a pruned range sets range_id to NULL.
CREATE INDEX reporter_shadow_reports_range_idx ON reporter_shadow_reports (range_id) WHERE range_id IS NOT NULL;
