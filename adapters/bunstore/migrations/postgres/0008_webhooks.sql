-- 0008_webhooks: dynamic skills and human handoff. A profile's skills
-- webhook (its configuration and what its recent calls did), its handoff
-- webhook, the handed-off mark of a conversation, and the outgoing webhook
-- events with every attempt at delivering them.
--
--   * Everything belongs to a profile and goes with it (ON DELETE CASCADE);
--     attempts go with their delivery.
--   * messaging_skills_configs holds one row per profile, written by
--     UpdateMessaging (SaveSkillsConfig replaces the configuration columns
--     and never the status ones). skills is a JSON array of {"key",
--     "label", "keywords"} objects, in matching order; the core checks the
--     caps (20 skills, 30 keywords each) and the unique keys. The secret
--     signs the calls, so it is kept as given: it is never read back by a
--     route.
--   * The status columns (last_call_at, last_success_at, recent_errors)
--     are written by RecordSkillCall, which reads and rewrites them under
--     the row's lock (SELECT … FOR UPDATE), so concurrent calls lose no
--     update. recent_errors is a JSON array of {"at", "skill", "error"}
--     objects, newest first, at most 10 (the core's MaxSkillErrors); "at"
--     is RFC 3339 in UTC.
--   * messaging_handoff_configs holds one row per profile; an empty
--     webhook_url sends nothing.
--   * messaging_conversations.handed_off_at is when a person took the
--     conversation over; NULL while the bot has it. RecordTurn sets it only
--     when NULL (COALESCE), so a second handoff keeps the first time;
--     HandBack clears it.
--   * webhook_deliveries: one row per outgoing event, created in the
--     transaction of the turn that causes it, together with its job on the
--     queue. id is the event id receivers see on every attempt. body is the
--     JSON payload as bytes (BYTEA, not JSONB: the signature covers the
--     exact bytes, which JSONB would rewrite). conversation_id refers to
--     nothing: a conversation only goes with its profile, as its events do.
--     next_attempt_at is set while pending, delivered_at once delivered, as
--     the worker writes them (RecordAttempt).
--   * webhook_attempts: the primary key (delivery_id, n) numbers a
--     delivery's attempts from 1; a number stored already is refused
--     (RecordAttempt: two workers raced on one delivery), so each attempt
--     is recorded once. duration_ms is the exchange's duration in
--     milliseconds; response the start of the receiver's answer (1 KiB,
--     cut by the core).
--   * Text keys are COLLATE "C": byte order, as SQLite's BINARY.

CREATE TABLE messaging_skills_configs (
    profile_id      TEXT COLLATE "C" NOT NULL PRIMARY KEY REFERENCES profiles (id) ON DELETE CASCADE,
    enabled         BOOLEAN NOT NULL,
    webhook_url     TEXT NOT NULL,
    secret          TEXT NOT NULL, -- "" signs nothing
    skills          TEXT NOT NULL DEFAULT '[]', -- JSON array of {"key", "label", "keywords"}
    updated_at      TIMESTAMPTZ NOT NULL,
    -- The status, written by RecordSkillCall only.
    last_call_at    TIMESTAMPTZ NULL,
    last_success_at TIMESTAMPTZ NULL,
    recent_errors   TEXT NOT NULL DEFAULT '[]' -- JSON array of {"at", "skill", "error"}, newest first
);

CREATE TABLE messaging_handoff_configs (
    profile_id  TEXT COLLATE "C" NOT NULL PRIMARY KEY REFERENCES profiles (id) ON DELETE CASCADE,
    webhook_url TEXT NOT NULL, -- "" sends nothing
    secret      TEXT NOT NULL, -- "" signs nothing
    updated_at  TIMESTAMPTZ NOT NULL
);

ALTER TABLE messaging_conversations ADD COLUMN handed_off_at TIMESTAMPTZ NULL;

CREATE TABLE webhook_deliveries (
    id              TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    profile_id      TEXT COLLATE "C" NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    event           TEXT NOT NULL,
    conversation_id TEXT COLLATE "C" NOT NULL, -- no key: see above
    body            BYTEA NOT NULL,
    state           TEXT NOT NULL,
    attempt_count   INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NULL, -- pending only
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    delivered_at    TIMESTAMPTZ NULL, -- delivered only
    CONSTRAINT webhook_deliveries_state_check CHECK (state IN ('pending', 'delivered', 'failed')),
    CONSTRAINT webhook_deliveries_attempt_count_check CHECK (attempt_count >= 0)
);

-- Deliveries: a profile's events, newest first, paged by (created_at, id).
CREATE INDEX webhook_deliveries_profile_idx ON webhook_deliveries (profile_id, created_at DESC, id DESC);

CREATE TABLE webhook_attempts (
    delivery_id TEXT COLLATE "C" NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    n           INTEGER NOT NULL, -- 1 for the first attempt
    at          TIMESTAMPTZ NOT NULL,
    url         TEXT NOT NULL,
    status_code INTEGER NOT NULL, -- 0 when no answer came
    duration_ms BIGINT NOT NULL,
    error       TEXT NOT NULL, -- "" on success
    response    TEXT NOT NULL,
    -- One row per attempt number (a duplicate is a conflict), and the
    -- Deliveries listing's attempts, oldest first.
    CONSTRAINT webhook_attempts_pkey PRIMARY KEY (delivery_id, n),
    CONSTRAINT webhook_attempts_n_check CHECK (n > 0),
    CONSTRAINT webhook_attempts_status_code_check CHECK (status_code >= 0),
    CONSTRAINT webhook_attempts_duration_ms_check CHECK (duration_ms >= 0)
);
