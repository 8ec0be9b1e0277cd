DROP INDEX CONCURRENTLY IF EXISTS reporter_order_reports_range_idx;
