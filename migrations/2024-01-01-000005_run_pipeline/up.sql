-- reviewed (issue 12): applied in production before migrations had to set lock_timeout; never run again.
-- squawk-ignore-file require-lock-timeout
-- The run pipeline: business dates, weights and errors on runs, the exports
-- and their rows, the ordered stuck orders, the reports ledger and range
-- fencing. Additive only.

ALTER TABLE reporter_runs
    ADD COLUMN business_date DATE;
COMMENT ON COLUMN reporter_runs.business_date IS 'Date of scheduled_at in REPORTER_TIMEZONE: the day D of the compare';

ALTER TABLE reporter_run_users
    ADD COLUMN weight INTEGER NOT NULL DEFAULT 1,
    ADD COLUMN download_attempts INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN error TEXT,
    ADD COLUMN finished_at TIMESTAMPTZ;
COMMENT ON COLUMN reporter_run_users.weight IS 'Reservation weight at run time; heavier customers'' ranges go first';

ALTER TABLE reporter_ranges
    ADD COLUMN fence BIGINT,
    ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN error TEXT,
    ADD COLUMN orders_reported INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN available_at TIMESTAMPTZ;
COMMENT ON COLUMN reporter_ranges.available_at IS 'A retried range is not taken again before this time';
COMMENT ON COLUMN reporter_ranges.fence IS 'Fencing token of the Redis range lock that owns the row; writes by older holders are refused';
-- reviewed (issue 12): plain index on the existing reporter_ranges: already applied in production, as it stands; new ones follow the rule (docs/deploy.md).
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX reporter_ranges_status_idx ON reporter_ranges (status) WHERE status IN ('pending', 'processing', 'locked');

CREATE TABLE reporter_export_batches (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    run_user_id BIGINT REFERENCES reporter_run_users(id) ON DELETE SET NULL,
    business_date DATE NOT NULL,
    row_count INTEGER NOT NULL,
    exported_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX reporter_export_batches_user_date_idx ON reporter_export_batches (user_id, business_date DESC, id DESC);
CREATE UNIQUE INDEX reporter_export_batches_run_user_key ON reporter_export_batches (run_user_id) WHERE run_user_id IS NOT NULL;
COMMENT ON TABLE reporter_export_batches IS 'One downloaded orders export of a customer''s portal account';

CREATE TABLE reporter_export_rows (
    batch_id BIGINT NOT NULL REFERENCES reporter_export_batches(id) ON DELETE CASCADE,
    order_id BIGINT NOT NULL,
    order_date TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    carrier TEXT NOT NULL DEFAULT '',
    tracking_number TEXT NOT NULL DEFAULT '',
    customer TEXT NOT NULL DEFAULT '',
    city TEXT NOT NULL DEFAULT '',
    total DOUBLE PRECISION,
    PRIMARY KEY (batch_id, order_id)
);
COMMENT ON TABLE reporter_export_rows IS 'Snapshot of one order as the export showed it';

CREATE TABLE reporter_stuck_orders (
    run_user_id BIGINT NOT NULL REFERENCES reporter_run_users(id) ON DELETE CASCADE,
    position INTEGER NOT NULL CHECK (position >= 1),
    order_id BIGINT NOT NULL,
    status TEXT NOT NULL,
    carrier TEXT NOT NULL DEFAULT '',
    tracking_number TEXT NOT NULL DEFAULT '',
    order_date TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (run_user_id, position)
);
COMMENT ON COLUMN reporter_stuck_orders.position IS '1-based position; ranges cover [range_start, range_end] of it';

CREATE TABLE reporter_order_reports (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    order_id BIGINT NOT NULL,
    business_date DATE NOT NULL,
    run_user_id BIGINT REFERENCES reporter_run_users(id) ON DELETE SET NULL,
    range_id BIGINT REFERENCES reporter_ranges(id) ON DELETE SET NULL,
    ticket TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('reported', 'already_reported')),
    status TEXT NOT NULL DEFAULT '',
    carrier TEXT NOT NULL DEFAULT '',
    tracking_number TEXT NOT NULL DEFAULT '',
    reported_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT reporter_order_reports_once_per_day UNIQUE (user_id, order_id, business_date)
);
CREATE INDEX reporter_order_reports_run_user_idx ON reporter_order_reports (run_user_id);
COMMENT ON TABLE reporter_order_reports IS 'Ledger of filed reports: an order is reported at most once per business day';
