-- 0001_init: accounts, plan catalog, API keys and sessions.
-- Ids and digests use the "C" collation: byte order (what ListPlans sorts
-- by, as the in-memory store does) and cheaper B-tree comparisons.

CREATE TABLE profiles (
    id               TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    email            TEXT NOT NULL,
    email_normalized TEXT NOT NULL,
    password_hash    TEXT NOT NULL,
    display_name     TEXT NOT NULL,
    account_kind     TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    CONSTRAINT profiles_email_normalized_key UNIQUE (email_normalized)
);

CREATE TABLE studios (
    id         TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    profile_id TEXT COLLATE "C" NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT studios_profile_id_key UNIQUE (profile_id)
);

CREATE TABLE drives (
    id         TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    profile_id TEXT COLLATE "C" NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT drives_profile_id_key UNIQUE (profile_id)
);

CREATE TABLE plans (
    id                     TEXT COLLATE "C" NOT NULL PRIMARY KEY,
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
    created_at             TIMESTAMPTZ NOT NULL,
    updated_at             TIMESTAMPTZ NOT NULL
);

CREATE TABLE subscriptions (
    id                     TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    profile_id             TEXT COLLATE "C" NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    line                   TEXT NOT NULL,
    plan_id                TEXT COLLATE "C" NOT NULL REFERENCES plans (id) ON DELETE RESTRICT,
    status                 TEXT NOT NULL,
    stripe_customer_id     TEXT NOT NULL,
    stripe_subscription_id TEXT NOT NULL,
    current_period_end     TIMESTAMPTZ NULL,
    created_at             TIMESTAMPTZ NOT NULL,
    updated_at             TIMESTAMPTZ NOT NULL,
    CONSTRAINT subscriptions_profile_id_line_key UNIQUE (profile_id, line)
);

-- "Is this plan in use?" and the ON DELETE RESTRICT check.
CREATE INDEX subscriptions_plan_id_idx ON subscriptions (plan_id);

CREATE TABLE api_keys (
    id             TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    profile_id     TEXT COLLATE "C" NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    line           TEXT NOT NULL,
    digest         TEXT COLLATE "C" NOT NULL,
    display_prefix TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    revoked_at     TIMESTAMPTZ NULL,
    CONSTRAINT api_keys_digest_key UNIQUE (digest)
);

-- Serves the active-key lookups by profile and is the safety net behind
-- RotateAPIKey's row lock: at most one active key per profile and line.
CREATE UNIQUE INDEX api_keys_one_active_per_line ON api_keys (profile_id, line) WHERE revoked_at IS NULL;
CREATE INDEX api_keys_profile_id_idx ON api_keys (profile_id);

CREATE TABLE sessions (
    token_digest TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    profile_id   TEXT COLLATE "C" NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL
);

CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);
CREATE INDEX sessions_profile_id_idx ON sessions (profile_id);
