ALTER TABLE reporter_reservations DROP COLUMN calculated_weight;
ALTER TABLE reporter_hour_slots DROP COLUMN capacity_points;
ALTER TABLE reporter_slot_config DROP COLUMN reporter_hour_end, DROP COLUMN reporter_hour_start, DROP COLUMN slot_capacity;
