INSERT INTO reporter_slot_config (id) VALUES (1) ON CONFLICT (id) DO NOTHING;
INSERT INTO reporter_hour_slots (hour)
SELECT h FROM generate_series(0, 23) AS h
ON CONFLICT (hour) DO NOTHING;
