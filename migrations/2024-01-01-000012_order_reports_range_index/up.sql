-- Deleting a pruned run's ranges sets reporter_order_reports.range_id to
-- NULL (ON DELETE SET NULL); without this index every deleted range costs a
-- scan of the whole ledger. Built CONCURRENTLY (no write lock on the
-- ledger), so this file holds that one statement and runs outside a
-- transaction (metadata.toml).
-- reviewed (issue 14): CREATE INDEX CONCURRENTLY takes no lock that blocks writes, and a lock_timeout cannot be set in the same file (diesel sends one multi-statement query, which PostgreSQL runs as a transaction block, where CONCURRENTLY is refused).
-- squawk-ignore require-lock-timeout
CREATE INDEX CONCURRENTLY IF NOT EXISTS reporter_order_reports_range_idx ON reporter_order_reports (range_id) WHERE range_id IS NOT NULL;
