-- reviewed (issue 12): applied in production before migrations had to set lock_timeout; never run again.
-- squawk-ignore-file require-lock-timeout
-- A range's retry budget counts failed attempts that made no progress, not
-- takes: takeovers after a kill or pause and SIGTERM hand-backs are not
-- failures (`attempts` still counts every take, for operators). Additive.
ALTER TABLE reporter_ranges ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
COMMENT ON COLUMN reporter_ranges.failures IS 'Consecutive failed attempts without a single order reported; the range fails for good at the retry budget';
