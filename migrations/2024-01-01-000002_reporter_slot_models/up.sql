-- reviewed (issue 12): applied in production before migrations had to set lock_timeout; never run again.
-- squawk-ignore-file require-lock-timeout
CREATE TABLE reporter_slot_config (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    max_active_selenium INTEGER NOT NULL DEFAULT 6,
    estimated_pending_factor DOUBLE PRECISION NOT NULL DEFAULT 0.08,
    range_size INTEGER NOT NULL DEFAULT 100,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
COMMENT ON TABLE reporter_slot_config IS 'Single row (id = 1) of slot-system settings';

CREATE TABLE reporter_hour_slots (
    id SERIAL PRIMARY KEY,
    hour INTEGER NOT NULL UNIQUE CHECK (hour BETWEEN 0 AND 23),
    max_users INTEGER NOT NULL DEFAULT 10
);
COMMENT ON COLUMN reporter_hour_slots.hour IS 'Wall-clock hour (0-23) in REPORTER_TIMEZONE';
COMMENT ON COLUMN reporter_hour_slots.max_users IS 'Legacy per-slot user limit, kept for old clients; capacity_points rules now';

CREATE TABLE reporter_reservations (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL UNIQUE REFERENCES users(id) ON DELETE CASCADE,
    slot_id INTEGER NOT NULL REFERENCES reporter_hour_slots(id),
    monthly_orders_estimate INTEGER NOT NULL CHECK (monthly_orders_estimate >= 0),
    estimated_pending_orders INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX reporter_reservations_slot_id_idx ON reporter_reservations (slot_id);

CREATE TABLE reporter_runs (
    id BIGSERIAL PRIMARY KEY,
    slot_id INTEGER NOT NULL REFERENCES reporter_hour_slots(id),
    scheduled_at TIMESTAMPTZ NOT NULL,
    started_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'completed', 'failed')),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT reporter_runs_slot_scheduled_key UNIQUE (slot_id, scheduled_at)
);
COMMENT ON CONSTRAINT reporter_runs_slot_scheduled_key ON reporter_runs IS 'A slot hour can never have two runs';

CREATE TABLE reporter_run_users (
    id BIGSERIAL PRIMARY KEY,
    run_id BIGINT NOT NULL REFERENCES reporter_runs(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    download_compare_status TEXT NOT NULL DEFAULT 'pending'
        CHECK (download_compare_status IN ('pending', 'running', 'completed', 'failed')),
    total_pending_orders INTEGER NOT NULL DEFAULT 0,
    total_ranges INTEGER NOT NULL DEFAULT 0,
    ranges_completed INTEGER NOT NULL DEFAULT 0,
    progress_message TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT reporter_run_users_run_user_key UNIQUE (run_id, user_id)
);
CREATE INDEX reporter_run_users_user_id_idx ON reporter_run_users (user_id);
COMMENT ON COLUMN reporter_run_users.progress_message IS 'Friendly Spanish progress text shown to the customer';

CREATE TABLE reporter_ranges (
    id BIGSERIAL PRIMARY KEY,
    run_user_id BIGINT NOT NULL REFERENCES reporter_run_users(id) ON DELETE CASCADE,
    range_start INTEGER NOT NULL CHECK (range_start >= 1),
    range_end INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'locked', 'processing', 'completed', 'failed')),
    locked_by TEXT,
    locked_at TIMESTAMPTZ,
    completed_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT reporter_ranges_bounds CHECK (range_end >= range_start),
    CONSTRAINT reporter_ranges_run_user_start_key UNIQUE (run_user_id, range_start)
);
COMMENT ON COLUMN reporter_ranges.range_start IS '1-based position in the run-user''s ordered stuck-order list, inclusive';
COMMENT ON COLUMN reporter_ranges.range_end IS '1-based position, inclusive';
