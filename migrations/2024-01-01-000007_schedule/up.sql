-- reviewed (issue 12): applied in production before migrations had to set lock_timeout; never run again.
-- squawk-ignore-file require-lock-timeout
-- The schedule as PostgreSQL state: how each run came to be and whether it
-- started late, when each reservation got its hour (a reservation made after
-- its hour's instant waits for the next day), hours that fell out of the
-- catch-up window without a run, pauses, and the last reconcile. Additive only.

ALTER TABLE reporter_runs
    ADD COLUMN origin TEXT NOT NULL DEFAULT 'manual',
    ADD COLUMN late_start BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE reporter_runs
    -- reviewed (issue 12): validated CHECK on the existing reporter_runs (one scan under lock): already applied in production, as it stands; new ones follow the rule (docs/deploy.md).
    -- squawk-ignore constraint-missing-not-valid
    ADD CONSTRAINT reporter_runs_origin_check CHECK (origin IN ('schedule', 'manual', 'backfill'));
COMMENT ON COLUMN reporter_runs.origin IS 'schedule (the reconciler), manual (trigger-slot) or backfill (reporterctl backfill)';
COMMENT ON COLUMN reporter_runs.late_start IS 'Enqueued by the schedule more than the grace period after its hour began (caught up or backfilled)';
-- reviewed (issue 12): plain index on the existing reporter_runs: already applied in production, as it stands; new ones follow the rule (docs/deploy.md).
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX IF NOT EXISTS reporter_runs_scheduled_at_idx ON reporter_runs (scheduled_at);

ALTER TABLE reporter_reservations
    ADD COLUMN slot_assigned_at TIMESTAMPTZ NOT NULL DEFAULT now();
UPDATE reporter_reservations SET slot_assigned_at = created_at;
COMMENT ON COLUMN reporter_reservations.slot_assigned_at IS 'When the reservation got its current hour: scheduled runs of instants before this do not include it';

ALTER TABLE reporter_export_batches
    ADD COLUMN baseline BOOLEAN NOT NULL DEFAULT true;
COMMENT ON COLUMN reporter_export_batches.baseline IS 'false for an export taken by a backfill of a past day: it shows a later day than its business date, so later compares skip it';

CREATE TABLE reporter_schedule_missed_hours (
    id BIGSERIAL PRIMARY KEY,
    scheduled_at TIMESTAMPTZ NOT NULL UNIQUE,
    business_date DATE NOT NULL,
    hour INTEGER NOT NULL CHECK (hour BETWEEN 0 AND 23),
    reservations INTEGER NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    recorded_by TEXT NOT NULL
);
COMMENT ON TABLE reporter_schedule_missed_hours IS 'Slot hours with reservations that fell out of the catch-up window without a run; one row each';

CREATE TABLE reporter_schedule_pauses (
    id BIGSERIAL PRIMARY KEY,
    hour INTEGER CHECK (hour BETWEEN 0 AND 23),
    paused_from TIMESTAMPTZ NOT NULL,
    paused_until TIMESTAMPTZ,
    resumed_at TIMESTAMPTZ,
    note TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
COMMENT ON TABLE reporter_schedule_pauses IS 'A slot hour (or every hour when hour is NULL) is paused for instants in [paused_from, least(paused_until, resumed_at)): neither run nor counted missed';

CREATE TABLE reporter_schedule_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_reconcile_at TIMESTAMPTZ,
    last_reconcile_by TEXT,
    last_error TEXT,
    last_error_at TIMESTAMPTZ
);
INSERT INTO reporter_schedule_state (id) VALUES (1);
COMMENT ON TABLE reporter_schedule_state IS 'The last successful reconcile of any beat (health and console read it)';
