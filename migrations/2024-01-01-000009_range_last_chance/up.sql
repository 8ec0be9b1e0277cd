-- reviewed (issue 12): applied in production before migrations had to set lock_timeout; never run again.
-- squawk-ignore-file require-lock-timeout
-- Before its hour ends, a range whose retry budget is spent gets one more
-- chance (a portal outage of a few minutes must not cost the customer the
-- day); this records when that chance was given, so it is given once.
-- Additive: old code ignores the column.
ALTER TABLE reporter_ranges ADD COLUMN last_chance_at TIMESTAMPTZ NULL;
COMMENT ON COLUMN reporter_ranges.last_chance_at IS 'When the range was given its one extra attempt after its retry budget was spent (NULL: not yet)';
