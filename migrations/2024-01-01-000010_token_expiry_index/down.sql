DROP INDEX IF EXISTS api_tokens_expires_at_idx;
