-- reviewed (issue 12): applied in production before migrations had to set lock_timeout; never run again.
-- squawk-ignore-file require-lock-timeout
CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
    monthly_orders_estimate INTEGER NOT NULL DEFAULT 0 CHECK (monthly_orders_estimate >= 0),
    portal_email TEXT,
    portal_password_enc BYTEA,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
COMMENT ON COLUMN users.email IS 'Login email, stored lower-case';
COMMENT ON COLUMN users.password_hash IS 'Argon2id PHC string';
COMMENT ON COLUMN users.portal_password_enc IS 'Supplier portal password: version byte, 12-byte nonce, AES-256-GCM ciphertext';

CREATE TABLE api_tokens (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash BYTEA NOT NULL UNIQUE,
    name TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ
);
CREATE INDEX api_tokens_user_id_idx ON api_tokens (user_id);
COMMENT ON COLUMN api_tokens.token_hash IS 'SHA-256 of the token; the token itself is shown once and never stored';
