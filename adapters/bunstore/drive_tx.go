package bunstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// driveTx implements ports.DriveTx on the transaction of one Store.Update.
//
// A write that the store's guards refuse changes nothing and leaves the
// transaction usable, so fn may handle the error and go on. PostgreSQL
// aborts a whole transaction at its first failed statement, and savepoints
// would cost two round trips and a subtransaction per write, so the writes
// that can be refused are conditional statements instead: INSERT … SELECT …
// WHERE the parent exists ON CONFLICT DO NOTHING, and UPDATE … WHERE the
// parent exists AND no live sibling has the name. When no row is written,
// probes (reads) tell why. Under the drive's lock nothing else changes the
// drive meanwhile, so the probes see what the statement saw; the unique
// indexes and foreign keys stay as the guard behind them.
type driveTx struct {
	s  *Store
	tx bun.Tx
	r  driveReader
}

var _ ports.DriveTx = (*driveTx)(nil)

// own refuses an item of another drive than the transaction's.
func (t *driveTx) own(driveID string) error {
	if driveID != t.r.driveID {
		return core.NotFound("drive").WithDetail("drive")
	}
	return nil
}

// Folder implements ports.DriveTx.
func (t *driveTx) Folder(ctx context.Context, id string) (core.DriveFolder, error) {
	f, err := t.r.folder(ctx, id)
	return f, t.s.fail(ctx, "drive tx: folder", err)
}

// File implements ports.DriveTx.
func (t *driveTx) File(ctx context.Context, id string) (core.DriveFile, error) {
	f, err := t.r.file(ctx, id)
	return f, t.s.fail(ctx, "drive tx: file", err)
}

// FileByKey implements ports.DriveTx.
func (t *driveTx) FileByKey(ctx context.Context, key string) (core.DriveFile, error) {
	f, err := t.r.fileByKey(ctx, key)
	return f, t.s.fail(ctx, "drive tx: file by key", err)
}

// Path implements ports.DriveTx.
func (t *driveTx) Path(ctx context.Context, folderID string) ([]core.DriveFolder, error) {
	p, err := t.r.path(ctx, folderID)
	if err != nil {
		return nil, t.s.fail(ctx, "drive tx: path", err)
	}
	return p, nil
}

// AppFolder implements ports.DriveTx, through the partial unique index on
// live app folders.
func (t *driveTx) AppFolder(ctx context.Context, appID string) (core.DriveFolder, error) {
	var row driveFolderRow
	err := t.tx.NewSelect().Model(&row).
		Where("drive_id = ?", t.r.driveID).Where("app_id = ?", appID).
		Where("app_id IS NOT NULL").Where("trashed_at IS NULL").
		Scan(ctx)
	if err != nil {
		return core.DriveFolder{}, t.s.fail(ctx, "drive tx: app folder", notFound(err, "folder"))
	}
	return row.core(), nil
}

// NameTaken implements ports.DriveTx, through the live-name index. An
// unknown kind is core.KindInvalid.
func (t *driveTx) NameTaken(ctx context.Context, kind core.DriveItemKind, parentID, nameNormalized string) (bool, error) {
	table, err := driveTable(kind)
	if err != nil {
		return false, err
	}
	taken, err := t.nameTaken(ctx, table, parentID, nameNormalized, "")
	return taken, t.s.fail(ctx, "drive tx: name taken", err)
}

// nameTaken reports whether a live item of table other than exceptID sits
// in parentID under nameNormalized.
func (t *driveTx) nameTaken(ctx context.Context, table, parentID, nameNormalized, exceptID string) (bool, error) {
	sel := t.tx.NewSelect().Table(table).
		Where("drive_id = ?", t.r.driveID).
		Where("COALESCE(parent_id, '') = ?", parentID). // the index's expression
		Where("name_normalized = ?", nameNormalized).
		Where("trashed_at IS NULL")
	if exceptID != "" {
		sel = sel.Where("id <> ?", exceptID)
	}
	return sel.Exists(ctx)
}

func driveTable(kind core.DriveItemKind) (string, error) {
	switch kind {
	case core.DriveFolderKind:
		return "drive_folders", nil
	case core.DriveFileKind:
		return "drive_files", nil
	}
	return "", core.Invalid("kind", "a drive item is a file or a folder")
}

// Height implements ports.DriveTx with one recursive query down the
// (drive_id, parent_id) index. A folder that is not the drive's is
// core.KindNotFound.
func (t *driveTx) Height(ctx context.Context, folderID string) (int, error) {
	var h int
	err := t.tx.NewRaw(`WITH RECURSIVE down (id, level) AS (
			SELECT id, 1 FROM drive_folders WHERE drive_id = ? AND id = ?
			UNION ALL
			SELECT f.id, d.level + 1
			FROM drive_folders AS f JOIN down AS d ON f.drive_id = ? AND f.parent_id = d.id
			WHERE d.level < ?
		) SELECT COALESCE(MAX(level), 0) FROM down`,
		t.r.driveID, folderID, t.r.driveID, maxDriveWalk).Scan(ctx, &h)
	if err != nil {
		return 0, t.s.fail(ctx, "drive tx: height", err)
	}
	if h == 0 {
		return 0, core.NotFound("folder")
	}
	return h, nil
}

// checkItem refuses what the table's CHECK constraints would: a trashed
// item without its trash root, or the reverse.
func checkItem(it core.DriveItem) error {
	if it.TrashedAt.IsZero() != (it.TrashRoot == "") {
		return core.Invalid("trash_root", "a trashed item has a trash root and a live one none")
	}
	return nil
}

// nullString is s, or nil (NULL) when s is empty.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// parentExists is the condition that parentID is "" (the root) or one of
// the drive's folders. Its arguments are parentID, driveID, parentID.
const parentExists = `(? = '' OR EXISTS (SELECT 1 FROM drive_folders AS p WHERE p.drive_id = ? AND p.id = ?))`

// CreateFolder implements ports.DriveTx with INSERT … SELECT … WHERE the
// parent exists ON CONFLICT DO NOTHING. When nothing is inserted, a parent
// that is not the drive's is core.KindNotFound, detail "parent"; a live
// sibling folder of the same normalized name core.KindConflict
// "name_taken"; a live folder of the same app, or a taken id,
// core.KindConflict "conflict".
func (t *driveTx) CreateFolder(ctx context.Context, f core.DriveFolder) error {
	if err := t.own(f.DriveID); err != nil {
		return err
	}
	if err := checkItem(f.DriveItem); err != nil {
		return err
	}
	res, err := t.tx.NewRaw(`INSERT INTO drive_folders
			(id, drive_id, parent_id, name, name_normalized, app_id, trashed_at, trash_root, created_at, updated_at)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
		WHERE `+parentExists+`
		ON CONFLICT DO NOTHING`,
		f.ID, f.DriveID, nullString(f.ParentID), f.Name, f.NameNormalized, nullString(f.AppID),
		trashedAt(f.TrashedAt), nullString(f.TrashRoot), f.CreatedAt.UTC(), f.UpdatedAt.UTC(),
		f.ParentID, t.r.driveID, f.ParentID,
	).Exec(ctx)
	return t.written(ctx, "create folder", res, err, func(ctx context.Context) error {
		if err := t.refused(ctx, "drive_folders", f.DriveItem); err != nil {
			return err
		}
		return conflict("conflict", "a folder with this id or app already exists", nil)
	})
}

// written checks that a conditional write changed a row. When it did not,
// why must say why; a failed statement is translated by the store's rules.
func (t *driveTx) written(ctx context.Context, op string, res sql.Result, err error, why func(ctx context.Context) error) error {
	op = "drive tx: " + op
	if err != nil {
		if isUnique(err) { // a guard behind the probes
			return t.uniqueConflict(err, op)
		}
		return t.s.fail(ctx, op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return t.s.fail(ctx, op, err)
	}
	if n > 0 {
		return nil
	}
	if err := why(ctx); err != nil {
		return t.s.fail(ctx, op, err)
	}
	return t.s.fail(ctx, op, errors.New("no row written, and no reason found"))
}

// refused probes why a write of it into table was refused: its parent is
// not the drive's (core.KindNotFound, detail "parent"), or a live sibling
// of its kind has its normalized name (core.KindConflict "name_taken").
// It returns nil when neither holds.
func (t *driveTx) refused(ctx context.Context, table string, it core.DriveItem) error {
	if it.ParentID != "" {
		ok, err := t.tx.NewSelect().Table("drive_folders").
			Where("drive_id = ?", t.r.driveID).Where("id = ?", it.ParentID).Exists(ctx)
		if err != nil {
			return fmt.Errorf("check parent: %w", err)
		}
		if !ok {
			return core.NotFound("folder").WithDetail("parent")
		}
	}
	if it.Trashed() {
		return nil
	}
	taken, err := t.nameTaken(ctx, table, it.ParentID, it.NameNormalized, it.ID)
	if err != nil {
		return fmt.Errorf("check name: %w", err)
	}
	if taken {
		return errNameTaken(nil)
	}
	return nil
}

func errNameTaken(cause error) *core.Error {
	return conflict("name_taken", "an item of this name is already in the folder", cause)
}

func errFileExists(cause error) *core.Error {
	return conflict("file_exists", "a file is already stored under this key", cause)
}

// uniqueConflict translates a unique violation that got past the probes
// (only a concurrent transaction of another drive could cause one) by the
// constraint PostgreSQL names. On PostgreSQL the transaction is aborted
// then, and fn should return the error.
func (t *driveTx) uniqueConflict(err error, op string) error {
	wrapped := fmt.Errorf("bunstore: %s: %w", op, err)
	switch constraintName(err) {
	case "drive_folders_live_name_key", "drive_files_live_name_key":
		return errNameTaken(wrapped)
	case "drive_files_storage_key_key":
		return errFileExists(wrapped)
	}
	return conflict("conflict", "it already exists", wrapped)
}

// CreateFile implements ports.DriveTx:
//
//  1. INSERT the file as CreateFolder inserts a folder. When nothing is
//     inserted: core.KindNotFound "parent", core.KindConflict "name_taken"
//     as CreateFolder; a file already stored under f.StorageKey (in any
//     drive) core.KindConflict "file_exists"; a taken id "conflict";
//  2. DELETE the reservation (id reservationID, owner the drive) RETURNING
//     its bytes; when there is none, the file row is deleted again and the
//     answer is core.KindNotFound, detail "reservation";
//  3. reserved_bytes -= the reservation's bytes, used_bytes += f.Size, as
//     Store.CompleteUpload settles a gallery upload.
//
// A negative f.Size is core.KindInvalid, detail "size".
func (t *driveTx) CreateFile(ctx context.Context, f core.DriveFile, reservationID string) error {
	if err := t.own(f.DriveID); err != nil {
		return err
	}
	if err := checkItem(f.DriveItem); err != nil {
		return err
	}
	if f.Size < 0 {
		return core.Invalid("size", "a file cannot have a negative size")
	}
	res, err := t.tx.NewRaw(`INSERT INTO drive_files
			(id, drive_id, parent_id, name, name_normalized, content_type, size, storage_key, etag,
			 trashed_at, trash_root, created_at, updated_at)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
		WHERE `+parentExists+`
		ON CONFLICT DO NOTHING`,
		f.ID, f.DriveID, nullString(f.ParentID), f.Name, f.NameNormalized, f.ContentType, f.Size, f.StorageKey, f.ETag,
		trashedAt(f.TrashedAt), nullString(f.TrashRoot), f.CreatedAt.UTC(), f.UpdatedAt.UTC(),
		f.ParentID, t.r.driveID, f.ParentID,
	).Exec(ctx)
	err = t.written(ctx, "create file", res, err, func(ctx context.Context) error {
		if err := t.refused(ctx, "drive_files", f.DriveItem); err != nil {
			return err
		}
		taken, err := t.tx.NewSelect().Model((*driveFileRow)(nil)).Where("storage_key = ?", f.StorageKey).Exists(ctx)
		if err != nil {
			return fmt.Errorf("check storage key: %w", err)
		}
		if taken {
			return errFileExists(nil)
		}
		return conflict("conflict", "a file with this id already exists", nil)
	})
	if err != nil {
		return err
	}
	bytes, found, err := deleteReservation(ctx, t.tx, f.DriveID, reservationID)
	if err != nil {
		return t.s.fail(ctx, "drive tx: create file", err)
	}
	if !found {
		// Undo step 1: a Release (the expiry job) may have taken the
		// reservation since the core read it.
		if _, err := t.tx.NewDelete().Model((*driveFileRow)(nil)).Where("id = ?", f.ID).Exec(ctx); err != nil {
			return t.s.fail(ctx, "drive tx: create file: undo", err)
		}
		return core.NotFound("reservation").WithDetail("reservation")
	}
	return t.s.fail(ctx, "drive tx: create file", moveBytes(ctx, t.tx, f.DriveID, -bytes, f.Size))
}

// UpdateFolder implements ports.DriveTx with one UPDATE … WHERE the parent
// exists AND (when the folder stays live) no other live folder in the
// parent has its normalized name AND none has its app. When nothing is
// updated: core.KindNotFound "folder" (not the drive's), "parent", or
// core.KindConflict "name_taken", or "conflict" for the app.
func (t *driveTx) UpdateFolder(ctx context.Context, f core.DriveFolder) error {
	if err := t.own(f.DriveID); err != nil {
		return err
	}
	if err := checkItem(f.DriveItem); err != nil {
		return err
	}
	upd := t.tx.NewUpdate().Model((*driveFolderRow)(nil)).
		Set("parent_id = ?", nullString(f.ParentID)).
		Set("name = ?", f.Name).
		Set("name_normalized = ?", f.NameNormalized).
		Set("app_id = ?", nullString(f.AppID)).
		Set("trashed_at = ?", trashedAt(f.TrashedAt)).
		Set("trash_root = ?", nullString(f.TrashRoot)).
		Set("updated_at = ?", f.UpdatedAt.UTC())
	upd = t.updateGuards(upd, "drive_folders", f.DriveItem)
	if f.AppID != "" && !f.Trashed() {
		upd = upd.Where(`NOT EXISTS (SELECT 1 FROM drive_folders AS o
			WHERE o.drive_id = ? AND o.app_id = ? AND o.trashed_at IS NULL AND o.id <> ?)`,
			t.r.driveID, f.AppID, f.ID)
	}
	res, err := upd.Exec(ctx)
	return t.written(ctx, "update folder", res, err, func(ctx context.Context) error {
		if err := t.updateRefused(ctx, "drive_folders", "folder", f.DriveItem); err != nil {
			return err
		}
		if f.AppID != "" && !f.Trashed() {
			return conflict("conflict", "the drive already has a folder of this app", nil)
		}
		return nil
	})
}

// UpdateFile implements ports.DriveTx as UpdateFolder does.
func (t *driveTx) UpdateFile(ctx context.Context, f core.DriveFile) error {
	if err := t.own(f.DriveID); err != nil {
		return err
	}
	if err := checkItem(f.DriveItem); err != nil {
		return err
	}
	upd := t.tx.NewUpdate().Model((*driveFileRow)(nil)).
		Set("parent_id = ?", nullString(f.ParentID)).
		Set("name = ?", f.Name).
		Set("name_normalized = ?", f.NameNormalized).
		Set("trashed_at = ?", trashedAt(f.TrashedAt)).
		Set("trash_root = ?", nullString(f.TrashRoot)).
		Set("updated_at = ?", f.UpdatedAt.UTC())
	res, err := t.updateGuards(upd, "drive_files", f.DriveItem).Exec(ctx)
	return t.written(ctx, "update file", res, err, func(ctx context.Context) error {
		return t.updateRefused(ctx, "drive_files", "file", f.DriveItem)
	})
}

// updateGuards scopes an UPDATE of it to the drive and adds the conditions
// of UpdateFolder and UpdateFile.
func (t *driveTx) updateGuards(upd *bun.UpdateQuery, table string, it core.DriveItem) *bun.UpdateQuery {
	upd = upd.Where("id = ?", it.ID).Where("drive_id = ?", t.r.driveID).
		Where(parentExists, it.ParentID, t.r.driveID, it.ParentID)
	if !it.Trashed() {
		upd = upd.Where(`NOT EXISTS (SELECT 1 FROM `+table+` AS o
			WHERE o.drive_id = ? AND COALESCE(o.parent_id, '') = ? AND o.name_normalized = ?
			AND o.trashed_at IS NULL AND o.id <> ?)`,
			t.r.driveID, it.ParentID, it.NameNormalized, it.ID)
	}
	return upd
}

// updateRefused probes why an UPDATE of it was refused: the item is not the
// drive's (core.KindNotFound, what), or as refused.
func (t *driveTx) updateRefused(ctx context.Context, table, what string, it core.DriveItem) error {
	ok, err := t.tx.NewSelect().Table(table).Where("drive_id = ?", t.r.driveID).Where("id = ?", it.ID).Exists(ctx)
	if err != nil {
		return fmt.Errorf("check %s: %w", what, err)
	}
	if !ok {
		return core.NotFound(what)
	}
	return t.refused(ctx, table, it)
}

// TrashSubtree implements ports.DriveTx with two set-based UPDATEs, files
// then folders, of the live items below the folder, found by one recursive
// walk each (subtreeFolders) down the (drive_id, parent_id) index. The walk
// goes through folders in any state. UpdatedAt becomes at. A folder that is
// not the drive's is core.KindNotFound.
func (t *driveTx) TrashSubtree(ctx context.Context, folderID string, at time.Time) error {
	if _, err := t.Folder(ctx, folderID); err != nil {
		return err
	}
	at = at.UTC()
	walk := []any{t.r.driveID, folderID, t.r.driveID}
	_, err := t.tx.NewRaw(`UPDATE drive_files SET trashed_at = ?, trash_root = ?, updated_at = ?
		WHERE drive_id = ? AND trashed_at IS NULL AND parent_id IN (`+subtreeFolders+`)`,
		append([]any{at, folderID, at, t.r.driveID}, walk...)...).Exec(ctx)
	if err == nil {
		_, err = t.tx.NewRaw(`UPDATE drive_folders SET trashed_at = ?, trash_root = ?, updated_at = ?
			WHERE drive_id = ? AND trashed_at IS NULL AND id <> ? AND id IN (`+subtreeFolders+`)`,
			append([]any{at, folderID, at, t.r.driveID, folderID}, walk...)...).Exec(ctx)
	}
	return t.s.fail(ctx, "drive tx: trash subtree", err)
}

// RestoreTrashRoot implements ports.DriveTx with two set-based UPDATEs
// through the (drive_id, trash_root) indexes. UpdatedAt becomes at. A root
// that is neither a folder nor a file of the drive is core.KindNotFound. A
// restored item whose name a live sibling has taken meanwhile (the core
// keeps that from happening) is core.KindConflict "name_taken".
func (t *driveTx) RestoreTrashRoot(ctx context.Context, rootID string, at time.Time) error {
	_, err := t.r.folder(ctx, rootID)
	if core.IsKind(err, core.KindNotFound) {
		_, err = t.r.file(ctx, rootID)
	}
	if err != nil {
		return t.s.fail(ctx, "drive tx: restore trash root", err)
	}
	for _, table := range []string{"drive_files", "drive_folders"} {
		_, err = t.tx.NewRaw(`UPDATE `+table+` SET trashed_at = NULL, trash_root = NULL, updated_at = ?
			WHERE drive_id = ? AND trash_root = ? AND id <> ?`,
			at.UTC(), t.r.driveID, rootID, rootID).Exec(ctx)
		if err != nil {
			break
		}
	}
	if isUnique(err) {
		return t.uniqueConflict(err, "restore trash root")
	}
	return t.s.fail(ctx, "drive tx: restore trash root", err)
}

// DeleteFile implements ports.DriveTx: DELETE … RETURNING the file's size
// and key, INSERT its object_deletions row (id "del_" + the file's id, so
// one per file and no randomness needed), used_bytes -= size.
func (t *driveTx) DeleteFile(ctx context.Context, id string) error {
	var gone struct {
		StorageKey string `bun:"storage_key"`
		Size       int64  `bun:"size"`
	}
	err := t.tx.NewRaw("DELETE FROM drive_files WHERE drive_id = ? AND id = ? RETURNING storage_key, size",
		t.r.driveID, id).Scan(ctx, &gone)
	if err != nil {
		return t.s.fail(ctx, "drive tx: delete file", notFound(err, "file"))
	}
	row := objectDeletionRow{ID: objectDeletionID(id), StorageKey: gone.StorageKey, CreatedAt: time.Now().UTC()}
	if _, err = t.tx.NewInsert().Model(&row).Exec(ctx); err == nil && gone.Size != 0 {
		err = moveBytes(ctx, t.tx, t.r.driveID, 0, -gone.Size)
	}
	return t.s.fail(ctx, "drive tx: delete file", err)
}

// objectDeletionPrefix starts the id of a file's object deletion; the file's
// own id follows. SQL builds the same ids with objectDeletionPrefix || id.
const objectDeletionPrefix = "del_"

func objectDeletionID(fileID string) string { return objectDeletionPrefix + fileID }

// DeleteFolder implements ports.DriveTx in a fixed number of set-based
// statements, whatever the subtree's size, each walking the subtree with
// subtreeFolders (the folder and every folder below it, in any state):
//
//  1. count and sum the sizes of the subtree's files;
//  2. when there are any: INSERT one object_deletions row per file (INSERT
//     … SELECT), used_bytes -= the sum, DELETE the files;
//  3. DELETE the subtree's folders in one statement (the parent keys are
//     checked at its end, when the whole subtree is gone).
//
// A folder that is not the drive's is core.KindNotFound.
func (t *driveTx) DeleteFolder(ctx context.Context, id string) error {
	if _, err := t.Folder(ctx, id); err != nil {
		return err
	}
	// inSubtree selects the subtree's files; its arguments are args.
	inSubtree := `drive_id = ? AND parent_id IN (` + subtreeFolders + `)`
	args := []any{t.r.driveID, t.r.driveID, id, t.r.driveID}
	err := func() error {
		var sum struct {
			N     int64 `bun:"n"`
			Bytes int64 `bun:"bytes"`
		}
		err := t.tx.NewRaw(`SELECT COUNT(*) AS n, CAST(COALESCE(SUM(size), 0) AS BIGINT) AS bytes
			FROM drive_files WHERE `+inSubtree, args...).Scan(ctx, &sum)
		if err != nil {
			return fmt.Errorf("sum files: %w", err)
		}
		if sum.N > 0 {
			_, err = t.tx.NewRaw(`INSERT INTO object_deletions (id, storage_key, created_at)
				SELECT ? || id, storage_key, ? FROM drive_files WHERE `+inSubtree,
				append([]any{objectDeletionPrefix, time.Now().UTC()}, args...)...).Exec(ctx)
			if err != nil {
				return fmt.Errorf("queue objects: %w", err)
			}
			if sum.Bytes != 0 {
				if err := moveBytes(ctx, t.tx, t.r.driveID, 0, -sum.Bytes); err != nil {
					return err
				}
			}
			if _, err := t.tx.NewRaw(`DELETE FROM drive_files WHERE `+inSubtree, args...).Exec(ctx); err != nil {
				return fmt.Errorf("delete files: %w", err)
			}
		}
		// The same arguments: drive_id = ? AND id IN (the subtree).
		_, err = t.tx.NewRaw(`DELETE FROM drive_folders WHERE drive_id = ? AND id IN (`+subtreeFolders+`)`,
			args...).Exec(ctx)
		if err != nil {
			return fmt.Errorf("delete folders: %w", err)
		}
		return nil
	}()
	return t.s.fail(ctx, "drive tx: delete folder", err)
}
