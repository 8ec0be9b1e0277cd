DROP INDEX CONCURRENTLY IF EXISTS reporter_order_reports_loose_idx;
