-- reviewed (issue 12): applied in production before migrations had to set lock_timeout; never run again.
-- squawk-ignore-file require-lock-timeout
-- Indexes for the web UI's views: reports per hour over the last day
-- (operators' chart) and the failed ranges list. Additive only.
-- reviewed (issue 12): plain index on the existing reporter_order_reports: already applied in production, as it stands; new ones follow the rule (docs/deploy.md).
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX IF NOT EXISTS reporter_order_reports_reported_at_idx ON reporter_order_reports (reported_at);
-- reviewed (issue 12): plain index on the existing reporter_ranges: already applied in production, as it stands; new ones follow the rule (docs/deploy.md).
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX IF NOT EXISTS reporter_ranges_failed_idx ON reporter_ranges (id) WHERE status = 'failed';
