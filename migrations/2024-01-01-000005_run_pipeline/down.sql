DROP TABLE reporter_order_reports;
DROP TABLE reporter_stuck_orders;
DROP TABLE reporter_export_rows;
DROP TABLE reporter_export_batches;
DROP INDEX reporter_ranges_status_idx;
ALTER TABLE reporter_ranges DROP COLUMN available_at, DROP COLUMN orders_reported, DROP COLUMN error, DROP COLUMN attempts, DROP COLUMN fence;
ALTER TABLE reporter_run_users DROP COLUMN finished_at, DROP COLUMN error, DROP COLUMN download_attempts, DROP COLUMN weight;
ALTER TABLE reporter_runs DROP COLUMN business_date;
