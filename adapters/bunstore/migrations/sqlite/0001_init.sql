-- 0001_init: accounts, plan catalog, API keys and sessions.
-- The same schema as migrations/postgres/0001_init.sql. Times are declared
-- TIMESTAMP: Bun writes them as UTC text with microseconds
-- ("2006-01-02 15:04:05.999999+00:00"), which sorts and compares correctly
-- as text, and the driver parses such columns back into time.Time.
-- Booleans are stored as 0/1. SQLite's default BINARY collation is byte order.

CREATE TABLE profiles (
    id               TEXT NOT NULL PRIMARY KEY,
    email            TEXT NOT NULL,
    email_normalized TEXT NOT NULL,
    password_hash    TEXT NOT NULL,
    display_name     TEXT NOT NULL,
    account_kind     TEXT NOT NULL,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL,
    CONSTRAINT profiles_email_normalized_key UNIQUE (email_normalized)
);

CREATE TABLE studios (
    id         TEXT NOT NULL PRIMARY KEY,
    profile_id TEXT NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    CONSTRAINT studios_profile_id_key UNIQUE (profile_id)
);

CREATE TABLE drives (
    id         TEXT NOT NULL PRIMARY KEY,
    profile_id TEXT NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    CONSTRAINT drives_profile_id_key UNIQUE (profile_id)
);

CREATE TABLE plans (
    id                     TEXT NOT NULL PRIMARY KEY,
    line                   TEXT NOT NULL,
    name                   TEXT NOT NULL,
    description            TEXT NOT NULL,
    features               TEXT NOT NULL, -- JSON array of strings
    storage_limit_bytes    BIGINT NOT NULL,
    monthly_credits        BIGINT NOT NULL,
    price_minor            BIGINT NOT NULL,
    currency               TEXT NOT NULL,
    billing_period         TEXT NOT NULL,
    client_gallery_enabled BOOLEAN NOT NULL,
    stripe_price_id        TEXT NOT NULL,
    status                 TEXT NOT NULL,
    sort_order             BIGINT NOT NULL,
    created_at             TIMESTAMP NOT NULL,
    updated_at             TIMESTAMP NOT NULL
);

CREATE TABLE subscriptions (
    id                     TEXT NOT NULL PRIMARY KEY,
    profile_id             TEXT NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    line                   TEXT NOT NULL,
    plan_id                TEXT NOT NULL REFERENCES plans (id) ON DELETE RESTRICT,
    status                 TEXT NOT NULL,
    stripe_customer_id     TEXT NOT NULL,
    stripe_subscription_id TEXT NOT NULL,
    current_period_end     TIMESTAMP NULL,
    created_at             TIMESTAMP NOT NULL,
    updated_at             TIMESTAMP NOT NULL,
    CONSTRAINT subscriptions_profile_id_line_key UNIQUE (profile_id, line)
);

-- "Is this plan in use?" and the ON DELETE RESTRICT check.
CREATE INDEX subscriptions_plan_id_idx ON subscriptions (plan_id);

CREATE TABLE api_keys (
    id             TEXT NOT NULL PRIMARY KEY,
    profile_id     TEXT NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    line           TEXT NOT NULL,
    digest         TEXT NOT NULL,
    display_prefix TEXT NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    revoked_at     TIMESTAMP NULL,
    CONSTRAINT api_keys_digest_key UNIQUE (digest)
);

-- Serves the active-key lookups by profile and is the safety net behind
-- RotateAPIKey's row lock: at most one active key per profile and line.
CREATE UNIQUE INDEX api_keys_one_active_per_line ON api_keys (profile_id, line) WHERE revoked_at IS NULL;
CREATE INDEX api_keys_profile_id_idx ON api_keys (profile_id);

CREATE TABLE sessions (
    token_digest TEXT NOT NULL PRIMARY KEY,
    profile_id   TEXT NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    created_at   TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL
);

CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);
CREATE INDEX sessions_profile_id_idx ON sessions (profile_id);
