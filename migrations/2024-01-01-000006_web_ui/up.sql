-- Indexes for the web UI's views: reports per hour over the last day
-- (operators' chart) and the failed ranges list. Additive only.
CREATE INDEX IF NOT EXISTS reporter_order_reports_reported_at_idx ON reporter_order_reports (reported_at);
CREATE INDEX IF NOT EXISTS reporter_ranges_failed_idx ON reporter_ranges (id) WHERE status = 'failed';
