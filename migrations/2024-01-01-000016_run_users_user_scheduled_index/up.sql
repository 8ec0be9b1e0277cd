-- A customer's run-users newest first (models::run::list_for_user, the
-- summary's latest participation): reads the LIMIT rows of one customer
-- instead of walking every run of the fleet (see 000015).
-- Built CONCURRENTLY (no write lock while workers update run-users), so
-- this file holds that one statement and runs outside a transaction
-- (metadata.toml).
-- reviewed (issue 14): CREATE INDEX CONCURRENTLY takes no lock that blocks writes, and a lock_timeout cannot be set in the same file (diesel sends one multi-statement query, which PostgreSQL runs as a transaction block, where CONCURRENTLY is refused).
-- squawk-ignore require-lock-timeout
CREATE INDEX CONCURRENTLY IF NOT EXISTS reporter_run_users_user_scheduled_idx ON reporter_run_users (user_id, scheduled_at DESC, run_id DESC);
