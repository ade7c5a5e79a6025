-- 0003_storage: storage quota (usage per owner, reservations of uploads in
-- flight) and the Client Gallery (categories, collections, files).
--
--   * storage_usage and upload_reservations are keyed by owner: a studio or
--     a drive, so owner_id has no foreign key. Reserve upserts the usage row
--     and raises reserved_bytes with one conditional UPDATE, whose row lock
--     serialises concurrent reservations of one owner; the CHECKs are the
--     safety net behind "used + reserved never goes negative".
--   * A reservation's storage key is unique: one upload in flight per object.
--     The expiry worker reads them oldest first through the expires_at index.
--   * Gallery rows belong to a studio and go with it (ON DELETE CASCADE).
--     A file refers to its collection together with the studio, (studio_id,
--     collection_id), so a file can never sit in another studio's
--     collection; a collection with files cannot be deleted on its own (the
--     files, and the bytes they count, must go first).
--   * Category names are unique per studio on name_normalized, which the
--     caller lower-cases. A deleted category leaves its collections without
--     one (ON DELETE SET NULL).

CREATE TABLE storage_usage (
    owner_id       TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    used_bytes     BIGINT NOT NULL DEFAULT 0,
    reserved_bytes BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT storage_usage_used_bytes_check CHECK (used_bytes >= 0),
    CONSTRAINT storage_usage_reserved_bytes_check CHECK (reserved_bytes >= 0)
);

CREATE TABLE upload_reservations (
    id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    owner_id    TEXT COLLATE "C" NOT NULL,
    storage_key TEXT COLLATE "C" NOT NULL,
    bytes       BIGINT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    CONSTRAINT upload_reservations_storage_key_key UNIQUE (storage_key),
    CONSTRAINT upload_reservations_bytes_check CHECK (bytes >= 0)
);

-- ExpiredReservations: oldest first.
CREATE INDEX upload_reservations_expires_at_idx ON upload_reservations (expires_at, id);

CREATE TABLE gallery_categories (
    id              TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    studio_id       TEXT COLLATE "C" NOT NULL REFERENCES studios (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    name_normalized TEXT COLLATE "C" NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    -- Also serves Categories (by studio, by normalized name).
    CONSTRAINT gallery_categories_studio_id_name_normalized_key UNIQUE (studio_id, name_normalized)
);

CREATE TABLE gallery_collections (
    id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    studio_id   TEXT COLLATE "C" NOT NULL REFERENCES studios (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    client_name TEXT NOT NULL,
    date        TEXT NOT NULL, -- YYYY-MM-DD as the studio gave it, or ''
    category_id TEXT COLLATE "C" NULL REFERENCES gallery_categories (id) ON DELETE SET NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    -- Collections' keyset pages, and the target of gallery_files' foreign key.
    CONSTRAINT gallery_collections_studio_id_id_key UNIQUE (studio_id, id)
);

-- The ON DELETE SET NULL update of a deleted category.
CREATE INDEX gallery_collections_category_id_idx ON gallery_collections (category_id);

CREATE TABLE gallery_files (
    id            TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    studio_id     TEXT COLLATE "C" NOT NULL REFERENCES studios (id) ON DELETE CASCADE,
    collection_id TEXT COLLATE "C" NOT NULL,
    client_name   TEXT NOT NULL,
    name          TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size          BIGINT NOT NULL,
    storage_key   TEXT COLLATE "C" NOT NULL,
    etag          TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    CONSTRAINT gallery_files_storage_key_key UNIQUE (storage_key),
    CONSTRAINT gallery_files_size_check CHECK (size >= 0),
    CONSTRAINT gallery_files_collection_fkey FOREIGN KEY (studio_id, collection_id)
        REFERENCES gallery_collections (studio_id, id)
);

-- CollectionFiles' keyset pages, and the foreign key's check on delete.
CREATE INDEX gallery_files_studio_id_collection_id_id_idx ON gallery_files (studio_id, collection_id, id);
