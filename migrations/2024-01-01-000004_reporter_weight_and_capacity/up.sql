-- reviewed (issue 12): applied in production before migrations had to set lock_timeout; never run again.
-- squawk-ignore-file require-lock-timeout
-- Additive only: old code keeps working on this schema (that is how rollback works).
ALTER TABLE reporter_slot_config
    ADD COLUMN slot_capacity INTEGER NOT NULL DEFAULT 6 CHECK (slot_capacity >= 0),
    ADD COLUMN reporter_hour_start INTEGER NOT NULL DEFAULT 6 CHECK (reporter_hour_start BETWEEN 0 AND 23),
    ADD COLUMN reporter_hour_end INTEGER NOT NULL DEFAULT 18 CHECK (reporter_hour_end BETWEEN 1 AND 24);
COMMENT ON COLUMN reporter_slot_config.reporter_hour_end IS 'Exclusive: hours in [start, end) are reservable';

ALTER TABLE reporter_hour_slots
    ADD COLUMN capacity_points INTEGER NOT NULL DEFAULT 6 CHECK (capacity_points >= 0);
COMMENT ON COLUMN reporter_hour_slots.capacity_points IS 'Sum of reservation weights this hour accepts';

ALTER TABLE reporter_reservations
    ADD COLUMN calculated_weight INTEGER NOT NULL DEFAULT 1 CHECK (calculated_weight BETWEEN 1 AND 3);
COMMENT ON COLUMN reporter_reservations.calculated_weight IS '1 (<=2000 orders/month), 2 (<=5000), 3 (more)';

-- Backfill weights of reservations made before weights existed.
UPDATE reporter_reservations SET calculated_weight = CASE
    WHEN monthly_orders_estimate <= 2000 THEN 1
    WHEN monthly_orders_estimate <= 5000 THEN 2
    ELSE 3 END;
