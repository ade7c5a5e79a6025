-- 0008_webhooks: dynamic skills and human handoff. The same schema as
-- migrations/postgres/0008_webhooks.sql, whose header explains the
-- columns, keys and locks. SQLite has no row locks: its IMMEDIATE
-- transactions run one writer at a time, which serialises RecordSkillCall
-- and RecordAttempt. body is a BLOB: the exact bytes that are signed. Its
-- BINARY collation is byte order already.

CREATE TABLE messaging_skills_configs (
    profile_id      TEXT NOT NULL PRIMARY KEY REFERENCES profiles (id) ON DELETE CASCADE,
    enabled         BOOLEAN NOT NULL,
    webhook_url     TEXT NOT NULL,
    secret          TEXT NOT NULL, -- "" signs nothing
    skills          TEXT NOT NULL DEFAULT '[]', -- JSON array of {"key", "label", "keywords"}
    updated_at      TIMESTAMP NOT NULL,
    -- The status, written by RecordSkillCall only.
    last_call_at    TIMESTAMP NULL,
    last_success_at TIMESTAMP NULL,
    recent_errors   TEXT NOT NULL DEFAULT '[]' -- JSON array of {"at", "skill", "error"}, newest first
);

CREATE TABLE messaging_handoff_configs (
    profile_id  TEXT NOT NULL PRIMARY KEY REFERENCES profiles (id) ON DELETE CASCADE,
    webhook_url TEXT NOT NULL, -- "" sends nothing
    secret      TEXT NOT NULL, -- "" signs nothing
    updated_at  TIMESTAMP NOT NULL
);

ALTER TABLE messaging_conversations ADD COLUMN handed_off_at TIMESTAMP NULL;

CREATE TABLE webhook_deliveries (
    id              TEXT NOT NULL PRIMARY KEY,
    profile_id      TEXT NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    event           TEXT NOT NULL,
    conversation_id TEXT NOT NULL, -- no key: see the PostgreSQL file
    body            BLOB NOT NULL,
    state           TEXT NOT NULL,
    attempt_count   INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NULL, -- pending only
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    delivered_at    TIMESTAMP NULL, -- delivered only
    CONSTRAINT webhook_deliveries_state_check CHECK (state IN ('pending', 'delivered', 'failed')),
    CONSTRAINT webhook_deliveries_attempt_count_check CHECK (attempt_count >= 0)
);

-- Deliveries: a profile's events, newest first, paged by (created_at, id).
CREATE INDEX webhook_deliveries_profile_idx ON webhook_deliveries (profile_id, created_at DESC, id DESC);

CREATE TABLE webhook_attempts (
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    n           INTEGER NOT NULL, -- 1 for the first attempt
    at          TIMESTAMP NOT NULL,
    url         TEXT NOT NULL,
    status_code INTEGER NOT NULL, -- 0 when no answer came
    duration_ms BIGINT NOT NULL,
    error       TEXT NOT NULL, -- "" on success
    response    TEXT NOT NULL,
    -- One row per attempt number (a duplicate is a conflict), and the
    -- Deliveries listing's attempts, oldest first.
    PRIMARY KEY (delivery_id, n),
    CONSTRAINT webhook_attempts_n_check CHECK (n > 0),
    CONSTRAINT webhook_attempts_status_code_check CHECK (status_code >= 0),
    CONSTRAINT webhook_attempts_duration_ms_check CHECK (duration_ms >= 0)
);
