DELETE FROM reporter_hour_slots WHERE id NOT IN (SELECT slot_id FROM reporter_reservations UNION SELECT slot_id FROM reporter_runs);
DELETE FROM reporter_slot_config WHERE id = 1;
