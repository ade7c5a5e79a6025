-- 0002_partner_apps: Developer Console apps, their daily analytics, connect
-- links, and API keys minted for a link. The same schema as
-- migrations/postgres/0002_partner_apps.sql, whose header explains the
-- lifetimes (links outlive their app, revoked and detached; keys keep their
-- link). Days are 'YYYY-MM-DD' text, which sorts and compares as dates.

CREATE TABLE partner_apps (
    id                    TEXT NOT NULL PRIMARY KEY,
    profile_id            TEXT NOT NULL REFERENCES profiles (id) ON DELETE RESTRICT,
    name                  TEXT NOT NULL,
    line                  TEXT NOT NULL,
    redirect_uris         TEXT NOT NULL, -- JSON array of strings
    client_id             TEXT NOT NULL,
    secret_digest         TEXT NOT NULL,
    secret_display_prefix TEXT NOT NULL,
    status                TEXT NOT NULL,
    created_at            TIMESTAMP NOT NULL,
    updated_at            TIMESTAMP NOT NULL,
    CONSTRAINT partner_apps_client_id_key UNIQUE (client_id)
);

CREATE INDEX partner_apps_profile_id_created_at_idx ON partner_apps (profile_id, created_at, id);
CREATE INDEX partner_apps_status_id_idx ON partner_apps (status, id);

CREATE TABLE app_daily_stats (
    app_id           TEXT NOT NULL REFERENCES partner_apps (id) ON DELETE CASCADE,
    day              TEXT NOT NULL, -- 'YYYY-MM-DD', UTC
    starts           BIGINT NOT NULL DEFAULT 0,
    completions      BIGINT NOT NULL DEFAULT 0,
    exchanges        BIGINT NOT NULL DEFAULT 0,
    failed_exchanges BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (app_id, day)
);

CREATE TABLE connect_links (
    id         TEXT NOT NULL PRIMARY KEY,
    profile_id TEXT NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    app_id     TEXT NULL REFERENCES partner_apps (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP NULL,
    CONSTRAINT connect_links_profile_id_app_id_key UNIQUE (profile_id, app_id)
);

CREATE INDEX connect_links_app_id_idx ON connect_links (app_id);

-- With foreign keys on, SQLite accepts a column with a REFERENCES clause in
-- ADD COLUMN only when its default is NULL, as here.
ALTER TABLE api_keys ADD COLUMN link_id TEXT NULL REFERENCES connect_links (id) ON DELETE CASCADE;

CREATE INDEX api_keys_link_id_idx ON api_keys (link_id);

-- A partial index cannot be altered: drop it and create the new one.
DROP INDEX api_keys_one_active_per_line;
CREATE UNIQUE INDEX api_keys_one_active_own_per_line ON api_keys (profile_id, line) WHERE revoked_at IS NULL AND link_id IS NULL;
