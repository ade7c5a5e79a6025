-- 0002_partner_apps: Developer Console apps, their daily analytics, connect
-- links, and API keys minted for a link.
--
-- Lifetimes, chosen so that the keys keep their audit trail:
--   * An app is removed only by DeleteApp, which first revokes its links and
--     every key minted for them. Its analytics go with it (ON DELETE
--     CASCADE). Its links stay, revoked, and are detached (app_id ON DELETE
--     SET NULL): they and their keys remain as the record of what the app
--     could reach and until when. UNIQUE (profile_id, app_id) ignores NULLs,
--     and app ids are never reused.
--   * A link is deleted only with its profile, and its keys with it
--     (api_keys.link_id ON DELETE CASCADE; the profile's keys are deleted by
--     the profile anyway).
--   * A profile that owns apps cannot be deleted (ON DELETE RESTRICT): its
--     apps must go through DeleteApp, or their links would stay active.

CREATE TABLE partner_apps (
    id                    TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    profile_id            TEXT COLLATE "C" NOT NULL REFERENCES profiles (id) ON DELETE RESTRICT,
    name                  TEXT NOT NULL,
    line                  TEXT NOT NULL,
    redirect_uris         TEXT NOT NULL, -- JSON array of strings
    client_id             TEXT COLLATE "C" NOT NULL,
    secret_digest         TEXT COLLATE "C" NOT NULL,
    secret_display_prefix TEXT NOT NULL,
    status                TEXT NOT NULL,
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL,
    CONSTRAINT partner_apps_client_id_key UNIQUE (client_id)
);

-- AppsByOwner (oldest first) and the ON DELETE RESTRICT check.
CREATE INDEX partner_apps_profile_id_created_at_idx ON partner_apps (profile_id, created_at, id);
-- ListApps filtered by status, keyset by id.
CREATE INDEX partner_apps_status_id_idx ON partner_apps (status, id);

-- One row per app and UTC day; AddAppStat upserts it.
CREATE TABLE app_daily_stats (
    app_id           TEXT COLLATE "C" NOT NULL REFERENCES partner_apps (id) ON DELETE CASCADE,
    day              DATE NOT NULL,
    starts           BIGINT NOT NULL DEFAULT 0,
    completions      BIGINT NOT NULL DEFAULT 0,
    exchanges        BIGINT NOT NULL DEFAULT 0,
    failed_exchanges BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (app_id, day)
);

CREATE TABLE connect_links (
    id         TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    profile_id TEXT COLLATE "C" NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    app_id     TEXT COLLATE "C" NULL REFERENCES partner_apps (id) ON DELETE SET NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ NULL,
    CONSTRAINT connect_links_profile_id_app_id_key UNIQUE (profile_id, app_id)
);

-- DeleteApp's revocation and the ON DELETE SET NULL update.
CREATE INDEX connect_links_app_id_idx ON connect_links (app_id);

-- NULL for the profile's own keys.
ALTER TABLE api_keys ADD COLUMN link_id TEXT COLLATE "C" NULL REFERENCES connect_links (id) ON DELETE CASCADE;

CREATE INDEX api_keys_link_id_idx ON api_keys (link_id);

-- "One active key per profile and line" now holds for own keys only: keys
-- minted for links live next to them.
DROP INDEX api_keys_one_active_per_line;
CREATE UNIQUE INDEX api_keys_one_active_own_per_line ON api_keys (profile_id, line) WHERE revoked_at IS NULL AND link_id IS NULL;
