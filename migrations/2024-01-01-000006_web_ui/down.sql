DROP INDEX IF EXISTS reporter_ranges_failed_idx;
DROP INDEX IF EXISTS reporter_order_reports_reported_at_idx;
