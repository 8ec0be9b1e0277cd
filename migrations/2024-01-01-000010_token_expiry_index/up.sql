SET LOCAL lock_timeout = '5s';
-- Login tokens now expire (REPORTER_TOKEN_TTL_DAYS) and a daily prune deletes
-- expired and revoked rows by `expires_at`. The column exists since 000001;
-- this only indexes it. Additive: old code ignores the index.
-- reviewed (issue 13): api_tokens is small (one row per live session, pruned daily), so a plain index builds in milliseconds under the 5 s lock_timeout; CONCURRENTLY cannot run from a diesel migration file that also sets lock_timeout (diesel sends the file as one multi-statement query, which PostgreSQL runs as one transaction block).
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX IF NOT EXISTS api_tokens_expires_at_idx ON api_tokens (expires_at);
