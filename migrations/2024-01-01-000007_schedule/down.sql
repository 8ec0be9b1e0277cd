DROP TABLE reporter_schedule_state;
DROP TABLE reporter_schedule_pauses;
DROP TABLE reporter_schedule_missed_hours;
ALTER TABLE reporter_export_batches DROP COLUMN baseline;
ALTER TABLE reporter_reservations DROP COLUMN slot_assigned_at;
DROP INDEX reporter_runs_scheduled_at_idx;
ALTER TABLE reporter_runs DROP CONSTRAINT reporter_runs_origin_check;
ALTER TABLE reporter_runs DROP COLUMN late_start, DROP COLUMN origin;
