DROP TABLE reporter_ranges;
DROP TABLE reporter_run_users;
DROP TABLE reporter_runs;
DROP TABLE reporter_reservations;
DROP TABLE reporter_hour_slots;
DROP TABLE reporter_slot_config;
