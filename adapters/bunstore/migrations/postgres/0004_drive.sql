-- 0004_drive: Drive trees (folders and files), the recycle bin, and the
-- objects that permanent deletes leave for the worker to remove.
--
--   * Folders and files belong to a drive and go with it (ON DELETE
--     CASCADE). An item's parent is a folder of the same drive: the foreign
--     key is (drive_id, parent_id) -> drive_folders (drive_id, id), and
--     parent_id is NULL at the root, where the key is not checked (MATCH
--     SIMPLE). The parent keys take no action on delete: a folder cannot go
--     while anything is left below it, so a permanent delete has to account
--     for every file (queue its object, lower used_bytes) before its rows
--     go. DeleteFolder deletes the subtree's files, then its folders in one
--     statement (the key is checked at the statement's end).
--   * The recycle bin is a state, not a table: trashed_at and trash_root are
--     set together (CHECK). A trashed item keeps its parent_id; it is listed
--     in the bin when trash_root = id, and went along with the folder
--     trash_root names otherwise.
--   * Sibling names: among the live items of one kind in one folder,
--     name_normalized (lower-cased by the caller) is unique. The partial
--     unique indexes on (drive_id, COALESCE(parent_id, ''), name_normalized)
--     WHERE trashed_at IS NULL are the store's guard behind the core's check
--     (COALESCE makes the root one folder: NULLs are distinct in a unique
--     index). Every change of a drive runs under the lock of its drives row,
--     so the checks the core makes in the transaction still hold at commit.
--     The same index pages List: live siblings have distinct names, so
--     name_normalized order is (name_normalized, id) order, and a page seeks
--     to the cursor whatever the folder's size.
--   * A drive has at most one live folder per partner app.
--   * (drive_id, parent_id) indexes walk subtrees (Height, TrashSubtree,
--     DeleteFolder) and check the parent keys. The recycle bin's listed items
--     (trash_root = id) have two small partial indexes: per drive, newest
--     first, for Trash; across drives, oldest first, for TrashExpired.
--     RestoreTrashRoot finds what went with a folder through trash_root.
--   * Text keys are COLLATE "C": byte order, as SQLite's BINARY and the
--     core's cursors expect.
--   * object_deletions holds the storage keys of deleted files until the
--     worker has removed their objects. It refers to nothing: the files are
--     gone. Its seq numbers rows in the order deletes queued them (the
--     deletes of one drive run one at a time, so in their commit order);
--     PendingObjectDeletions lists by it. A row's id is "del_" and its
--     file's id: one per file, built by the INSERT … SELECT of a whole
--     subtree.

CREATE TABLE drive_folders (
    id              TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    drive_id        TEXT COLLATE "C" NOT NULL REFERENCES drives (id) ON DELETE CASCADE,
    parent_id       TEXT COLLATE "C" NULL, -- NULL at the root
    name            TEXT NOT NULL,
    name_normalized TEXT COLLATE "C" NOT NULL,
    app_id          TEXT COLLATE "C" NULL, -- a partner app's folder
    trashed_at      TIMESTAMPTZ NULL,
    trash_root      TEXT COLLATE "C" NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
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
    id              TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    drive_id        TEXT COLLATE "C" NOT NULL REFERENCES drives (id) ON DELETE CASCADE,
    parent_id       TEXT COLLATE "C" NULL, -- NULL at the root
    name            TEXT NOT NULL,
    name_normalized TEXT COLLATE "C" NOT NULL,
    content_type    TEXT NOT NULL,
    size            BIGINT NOT NULL,
    storage_key     TEXT COLLATE "C" NOT NULL,
    etag            TEXT NOT NULL,
    trashed_at      TIMESTAMPTZ NULL,
    trash_root      TEXT COLLATE "C" NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
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
    -- The order deletes were queued in: PendingObjectDeletions lists by it.
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id          TEXT COLLATE "C" NOT NULL,
    storage_key TEXT COLLATE "C" NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    CONSTRAINT object_deletions_id_key UNIQUE (id)
);
