-- 0003_storage: storage quota (usage per owner, reservations of uploads in
-- flight) and the Client Gallery (categories, collections, files). The same
-- schema as migrations/postgres/0003_storage.sql, whose header explains the
-- keys and lifetimes. SQLite has no row locks: its IMMEDIATE transactions
-- serialise Reserve as a single writer.

CREATE TABLE storage_usage (
    owner_id       TEXT NOT NULL PRIMARY KEY,
    used_bytes     BIGINT NOT NULL DEFAULT 0,
    reserved_bytes BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT storage_usage_used_bytes_check CHECK (used_bytes >= 0),
    CONSTRAINT storage_usage_reserved_bytes_check CHECK (reserved_bytes >= 0)
);

CREATE TABLE upload_reservations (
    id          TEXT NOT NULL PRIMARY KEY,
    owner_id    TEXT NOT NULL,
    storage_key TEXT NOT NULL,
    bytes       BIGINT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    CONSTRAINT upload_reservations_storage_key_key UNIQUE (storage_key),
    CONSTRAINT upload_reservations_bytes_check CHECK (bytes >= 0)
);

CREATE INDEX upload_reservations_expires_at_idx ON upload_reservations (expires_at, id);

CREATE TABLE gallery_categories (
    id              TEXT NOT NULL PRIMARY KEY,
    studio_id       TEXT NOT NULL REFERENCES studios (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    name_normalized TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    CONSTRAINT gallery_categories_studio_id_name_normalized_key UNIQUE (studio_id, name_normalized)
);

CREATE TABLE gallery_collections (
    id          TEXT NOT NULL PRIMARY KEY,
    studio_id   TEXT NOT NULL REFERENCES studios (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    client_name TEXT NOT NULL,
    date        TEXT NOT NULL, -- YYYY-MM-DD as the studio gave it, or ''
    category_id TEXT NULL REFERENCES gallery_categories (id) ON DELETE SET NULL,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    CONSTRAINT gallery_collections_studio_id_id_key UNIQUE (studio_id, id)
);

CREATE INDEX gallery_collections_category_id_idx ON gallery_collections (category_id);

CREATE TABLE gallery_files (
    id            TEXT NOT NULL PRIMARY KEY,
    studio_id     TEXT NOT NULL REFERENCES studios (id) ON DELETE CASCADE,
    collection_id TEXT NOT NULL,
    client_name   TEXT NOT NULL,
    name          TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size          BIGINT NOT NULL,
    storage_key   TEXT NOT NULL,
    etag          TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    CONSTRAINT gallery_files_storage_key_key UNIQUE (storage_key),
    CONSTRAINT gallery_files_size_check CHECK (size >= 0),
    CONSTRAINT gallery_files_collection_fkey FOREIGN KEY (studio_id, collection_id)
        REFERENCES gallery_collections (studio_id, id)
);

CREATE INDEX gallery_files_studio_id_collection_id_id_idx ON gallery_files (studio_id, collection_id, id);
