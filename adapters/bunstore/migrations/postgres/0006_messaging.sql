-- 0006_messaging: Messaging: agents and their knowledge, the website
-- widget's embed settings, the credit ledger, and conversations.
--
--   * Everything belongs to a profile and goes with it (ON DELETE CASCADE);
--     knowledge sources go with their agent, messages with their
--     conversation.
--   * Agents: the core checks the rules (at most 25, exactly one default,
--     the last stays, the source caps) inside UpdateMessaging, which first
--     locks the profile's row (SELECT … FOR NO KEY UPDATE), so they still
--     hold at commit. The partial unique index on (profile_id) WHERE
--     is_default is the guard behind: never two defaults. An agent's
--     sources_count is counted from messaging_sources when read (at most
--     200 rows through the (agent_id, created_at, id) index), so it cannot
--     drift.
--   * messaging_embeds holds one row per profile; public_id (emb_…) is
--     unique across profiles and is replaced on rotation, so a rotated id
--     stops resolving and may be taken again. allowed_origins is a JSON
--     array of hostnames.
--   * Credits: messaging_accounts.balance is the sum of the profile's
--     messaging_credit_entries, kept in the same transaction as each entry
--     is written. A charge is one conditional UPDATE … SET balance =
--     balance - n WHERE balance >= n: concurrent charges wait for the row
--     lock and re-check the condition on the committed balance (READ
--     COMMITTED), and the CHECK (balance >= 0) backs it. The same row holds
--     the inbound and outbound message counts. A grant's key is unique per
--     profile (a partial unique index, the arbiter of INSERT … ON CONFLICT
--     DO NOTHING); charges have none (NULL). seq orders the ledger as it
--     was written (CreditEntries is oldest first).
--   * Conversations: ref is unique per profile. RecordTurn runs under the
--     account row's lock (its UPDATE of the counters), so messages are
--     numbered 0, 1, 2… per conversation (position, the primary key, which
--     pages the last messages), and message_count is the next position.
--     agent_id refers to nothing: the agent may be deleted later.
--   * Text keys are COLLATE "C": byte order, as SQLite's BINARY.

CREATE TABLE messaging_agents (
    id                    TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    profile_id            TEXT COLLATE "C" NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    name                  TEXT NOT NULL,
    bot_display_name      TEXT NOT NULL,
    bot_role_summary      TEXT NOT NULL,
    system_instructions   TEXT NOT NULL,
    human_handoff_enabled BOOLEAN NOT NULL,
    is_default            BOOLEAN NOT NULL DEFAULT FALSE,
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL
);

-- Agents (oldest first) and the scoped lookups.
CREATE INDEX messaging_agents_profile_idx ON messaging_agents (profile_id, created_at, id);
-- DefaultAgent; at most one default per profile.
CREATE UNIQUE INDEX messaging_agents_default_key ON messaging_agents (profile_id) WHERE is_default;

CREATE TABLE messaging_sources (
    id         TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    agent_id   TEXT COLLATE "C" NOT NULL REFERENCES messaging_agents (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    title      TEXT NOT NULL,
    question   TEXT NOT NULL,
    content    TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT messaging_sources_kind_check CHECK (kind IN ('text', 'qa'))
);

-- KnowledgeSources (oldest first), sources_count and the agent key.
CREATE INDEX messaging_sources_agent_idx ON messaging_sources (agent_id, created_at, id);

CREATE TABLE messaging_embeds (
    profile_id      TEXT COLLATE "C" NOT NULL PRIMARY KEY REFERENCES profiles (id) ON DELETE CASCADE,
    public_id       TEXT COLLATE "C" NOT NULL,
    enabled         BOOLEAN NOT NULL,
    allowed_origins TEXT NOT NULL, -- JSON array of hostnames
    accent_color    TEXT NOT NULL,
    launcher_icon   TEXT NOT NULL,
    greeting        TEXT NOT NULL,
    show_launcher   BOOLEAN NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    -- EmbedByPublicID; one profile per id.
    CONSTRAINT messaging_embeds_public_id_key UNIQUE (public_id)
);

CREATE TABLE messaging_accounts (
    profile_id     TEXT COLLATE "C" NOT NULL PRIMARY KEY REFERENCES profiles (id) ON DELETE CASCADE,
    balance        BIGINT NOT NULL DEFAULT 0,
    inbound_count  BIGINT NOT NULL DEFAULT 0,
    outbound_count BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT messaging_accounts_balance_check CHECK (balance >= 0),
    CONSTRAINT messaging_accounts_counts_check CHECK (inbound_count >= 0 AND outbound_count >= 0)
);

CREATE TABLE messaging_credit_entries (
    -- The order entries were written in: CreditEntries lists by it.
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         TEXT COLLATE "C" NOT NULL,
    profile_id TEXT COLLATE "C" NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    amount     BIGINT NOT NULL,
    reason     TEXT NOT NULL,
    grant_key  TEXT COLLATE "C" NULL, -- grants only; NULL for none
    created_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT messaging_credit_entries_id_key UNIQUE (id),
    CONSTRAINT messaging_credit_entries_amount_check CHECK (amount <> 0),
    CONSTRAINT messaging_credit_entries_key_check CHECK (grant_key IS NULL OR amount > 0)
);

-- CreditEntries (oldest first).
CREATE INDEX messaging_credit_entries_profile_idx ON messaging_credit_entries (profile_id, seq);
-- A grant key is granted once per profile.
CREATE UNIQUE INDEX messaging_credit_entries_grant_key
    ON messaging_credit_entries (profile_id, grant_key) WHERE grant_key IS NOT NULL;

CREATE TABLE messaging_conversations (
    id            TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    profile_id    TEXT COLLATE "C" NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    ref           TEXT COLLATE "C" NOT NULL,
    channel       TEXT NOT NULL,
    agent_id      TEXT COLLATE "C" NOT NULL, -- the agent of the latest turn; no key
    message_count INTEGER NOT NULL DEFAULT 0,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    -- ConversationByRef and RecordTurn's find-or-create.
    CONSTRAINT messaging_conversations_profile_id_ref_key UNIQUE (profile_id, ref),
    CONSTRAINT messaging_conversations_message_count_check CHECK (message_count >= 0)
);

CREATE TABLE messaging_messages (
    conversation_id TEXT COLLATE "C" NOT NULL REFERENCES messaging_conversations (id) ON DELETE CASCADE,
    position        INTEGER NOT NULL, -- 0, 1, 2… within the conversation
    id              TEXT COLLATE "C" NOT NULL,
    role            TEXT NOT NULL,
    content         TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    -- ConversationMessages (the last n, backwards) and the conversation key.
    CONSTRAINT messaging_messages_pkey PRIMARY KEY (conversation_id, position),
    CONSTRAINT messaging_messages_id_key UNIQUE (id),
    CONSTRAINT messaging_messages_role_check CHECK (role IN ('user', 'assistant')),
    CONSTRAINT messaging_messages_position_check CHECK (position >= 0)
);
