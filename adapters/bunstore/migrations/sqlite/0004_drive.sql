-- 0004_drive: Drive trees (folders and files), the recycle bin, and the
-- objects that permanent deletes leave for the worker to remove. The same
-- schema as migrations/postgres/0004_drive.sql, whose header explains the
-- keys and indexes. SQLite has no row locks: its IMMEDIATE transactions run
-- one writer at a time, which serialises the changes of a drive. Its BINARY
-- collation is byte order already. Foreign keys are checked at each
-- statement's end (PRAGMA foreign_keys is on), as PostgreSQL's NO ACTION.

CREATE TABLE drive_folders (
    id              TEXT NOT NULL PRIMARY KEY,
    drive_id        TEXT NOT NULL REFERENCES drives (id) ON DELETE CASCADE,
    parent_id       TEXT NULL, -- NULL at the root
    name            TEXT NOT NULL,
    name_normalized TEXT NOT NULL,
    app_id          TEXT NULL, -- a partner app's folder
    trashed_at      TIMESTAMP NULL,
    trash_root      TEXT NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    -- The target of the parent keys.
    CONSTRAINT drive_folders_drive_id_id_key UNIQUE (drive_id, id),
    CONSTRAINT drive_folders_parent_fkey FOREIGN KEY (drive_id, parent_id)
        REFERENCES drive_folders (drive_id, id),
    CONSTRAINT drive_folders_trash_check CHECK ((trashed_at IS NULL) = (trash_root IS NULL))
);

-- Sibling names, NameTaken and List.
CREATE UNIQUE INDEX drive_folders_live_name_key
    ON drive_folders (drive_id, COALESCE(parent_id, ''), name_normalized) WHERE trashed_at IS NULL;
-- AppFolder.
CREATE UNIQUE INDEX drive_folders_live_app_key
    ON drive_folders (drive_id, app_id) WHERE trashed_at IS NULL AND app_id IS NOT NULL;
-- Subtrees and the parent key.
CREATE INDEX drive_folders_parent_idx ON drive_folders (drive_id, parent_id);
-- Trash (newest first) and TrashExpired (oldest first, every drive).
CREATE INDEX drive_folders_trash_idx ON drive_folders (drive_id, trashed_at, id) WHERE trash_root = id;
CREATE INDEX drive_folders_trash_expiry_idx ON drive_folders (trashed_at, id) WHERE trash_root = id;
-- RestoreTrashRoot.
CREATE INDEX drive_folders_trash_root_idx ON drive_folders (drive_id, trash_root) WHERE trash_root IS NOT NULL;

CREATE TABLE drive_files (
    id              TEXT NOT NULL PRIMARY KEY,
    drive_id        TEXT NOT NULL REFERENCES drives (id) ON DELETE CASCADE,
    parent_id       TEXT NULL, -- NULL at the root
    name            TEXT NOT NULL,
    name_normalized TEXT NOT NULL,
    content_type    TEXT NOT NULL,
    size            BIGINT NOT NULL,
    storage_key     TEXT NOT NULL,
    etag            TEXT NOT NULL,
    trashed_at      TIMESTAMP NULL,
    trash_root      TEXT NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    CONSTRAINT drive_files_storage_key_key UNIQUE (storage_key),
    CONSTRAINT drive_files_parent_fkey FOREIGN KEY (drive_id, parent_id)
        REFERENCES drive_folders (drive_id, id),
    CONSTRAINT drive_files_size_check CHECK (size >= 0),
    CONSTRAINT drive_files_trash_check CHECK ((trashed_at IS NULL) = (trash_root IS NULL))
);

-- Sibling names, NameTaken and List.
CREATE UNIQUE INDEX drive_files_live_name_key
    ON drive_files (drive_id, COALESCE(parent_id, ''), name_normalized) WHERE trashed_at IS NULL;
-- Subtrees and the parent key.
CREATE INDEX drive_files_parent_idx ON drive_files (drive_id, parent_id);
-- Trash (newest first) and TrashExpired (oldest first, every drive).
CREATE INDEX drive_files_trash_idx ON drive_files (drive_id, trashed_at, id) WHERE trash_root = id;
CREATE INDEX drive_files_trash_expiry_idx ON drive_files (trashed_at, id) WHERE trash_root = id;
-- RestoreTrashRoot.
CREATE INDEX drive_files_trash_root_idx ON drive_files (drive_id, trash_root) WHERE trash_root IS NOT NULL;

CREATE TABLE object_deletions (
    seq         INTEGER PRIMARY KEY, -- the rowid: one more than the largest
    id          TEXT NOT NULL,
    storage_key TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    CONSTRAINT object_deletions_id_key UNIQUE (id)
);
