package bunstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

var _ ports.DriveStore = (*Store)(nil)

// driveFolderRow is a drive_folders row (migrations/*/0004_drive.sql).
// NULL parent_id, app_id and trash_root read as "".
type driveFolderRow struct {
	bun.BaseModel `bun:"table:drive_folders"`

	ID             string     `bun:"id,pk"`
	DriveID        string     `bun:"drive_id"`
	ParentID       string     `bun:"parent_id,nullzero"`
	Name           string     `bun:"name"`
	NameNormalized string     `bun:"name_normalized"`
	AppID          string     `bun:"app_id,nullzero"`
	TrashedAt      *time.Time `bun:"trashed_at"`
	TrashRoot      string     `bun:"trash_root,nullzero"`
	CreatedAt      time.Time  `bun:"created_at"`
	UpdatedAt      time.Time  `bun:"updated_at"`
}

// driveFolderColumns are driveFolderRow's columns, for raw queries.
const driveFolderColumns = "f.id, f.drive_id, f.parent_id, f.name, f.name_normalized, f.app_id, " +
	"f.trashed_at, f.trash_root, f.created_at, f.updated_at"

func newDriveFolderRow(f core.DriveFolder) driveFolderRow {
	return driveFolderRow{
		ID:             f.ID,
		DriveID:        f.DriveID,
		ParentID:       f.ParentID,
		Name:           f.Name,
		NameNormalized: f.NameNormalized,
		AppID:          f.AppID,
		TrashedAt:      trashedAt(f.TrashedAt),
		TrashRoot:      f.TrashRoot,
		CreatedAt:      f.CreatedAt.UTC(),
		UpdatedAt:      f.UpdatedAt.UTC(),
	}
}

func (r driveFolderRow) core() core.DriveFolder {
	return core.DriveFolder{
		DriveItem: driveItem(r.ID, r.DriveID, r.ParentID, r.Name, r.NameNormalized,
			r.TrashedAt, r.TrashRoot, r.CreatedAt, r.UpdatedAt),
		AppID: r.AppID,
	}
}

// driveFileRow is a drive_files row.
type driveFileRow struct {
	bun.BaseModel `bun:"table:drive_files"`

	ID             string     `bun:"id,pk"`
	DriveID        string     `bun:"drive_id"`
	ParentID       string     `bun:"parent_id,nullzero"`
	Name           string     `bun:"name"`
	NameNormalized string     `bun:"name_normalized"`
	ContentType    string     `bun:"content_type"`
	Size           int64      `bun:"size"`
	StorageKey     string     `bun:"storage_key"`
	ETag           string     `bun:"etag"`
	TrashedAt      *time.Time `bun:"trashed_at"`
	TrashRoot      string     `bun:"trash_root,nullzero"`
	CreatedAt      time.Time  `bun:"created_at"`
	UpdatedAt      time.Time  `bun:"updated_at"`
}

func newDriveFileRow(f core.DriveFile) driveFileRow {
	return driveFileRow{
		ID:             f.ID,
		DriveID:        f.DriveID,
		ParentID:       f.ParentID,
		Name:           f.Name,
		NameNormalized: f.NameNormalized,
		ContentType:    f.ContentType,
		Size:           f.Size,
		StorageKey:     f.StorageKey,
		ETag:           f.ETag,
		TrashedAt:      trashedAt(f.TrashedAt),
		TrashRoot:      f.TrashRoot,
		CreatedAt:      f.CreatedAt.UTC(),
		UpdatedAt:      f.UpdatedAt.UTC(),
	}
}

func (r driveFileRow) core() core.DriveFile {
	return core.DriveFile{
		DriveItem: driveItem(r.ID, r.DriveID, r.ParentID, r.Name, r.NameNormalized,
			r.TrashedAt, r.TrashRoot, r.CreatedAt, r.UpdatedAt),
		ContentType: r.ContentType,
		Size:        r.Size,
		StorageKey:  r.StorageKey,
		ETag:        r.ETag,
	}
}

func driveItem(id, driveID, parentID, name, nameNormalized string, trashed *time.Time, trashRoot string, created, updated time.Time) core.DriveItem {
	it := core.DriveItem{
		ID:             id,
		DriveID:        driveID,
		ParentID:       parentID,
		Name:           name,
		NameNormalized: nameNormalized,
		TrashRoot:      trashRoot,
		CreatedAt:      created.UTC(),
		UpdatedAt:      updated.UTC(),
	}
	if trashed != nil {
		it.TrashedAt = trashed.UTC()
	}
	return it
}

// trashedAt is t in UTC, nil (NULL) when t is zero: the item is live.
func trashedAt(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// objectDeletionRow is an object_deletions row; the database numbers it
// (seq).
type objectDeletionRow struct {
	bun.BaseModel `bun:"table:object_deletions"`

	ID         string    `bun:"id"`
	StorageKey string    `bun:"storage_key"`
	CreatedAt  time.Time `bun:"created_at"`
}

// maxDriveWalk bounds the recursive walks of Path and Height: ten times
// the deepest tree the core allows, so a cycle in corrupt data ends the
// walk instead of looping. The subtree walks use UNION, which stops at a
// cycle by itself.
const maxDriveWalk = 10 * core.MaxDriveDepth

// subtreeFolders selects the ids of a folder and of every folder below it,
// whatever their state. Its arguments are driveID, folderID, driveID.
const subtreeFolders = `WITH RECURSIVE subtree (id) AS (
		SELECT id FROM drive_folders WHERE drive_id = ? AND id = ?
		UNION
		SELECT f.id FROM drive_folders AS f JOIN subtree AS s ON f.drive_id = ? AND f.parent_id = s.id
	) SELECT id FROM subtree`

// driveReader runs the reads that DriveStore and DriveTx share, scoped to
// one drive, on the store's pool or a transaction. Its errors are
// untranslated (sql.ErrNoRows already made core.KindNotFound): callers
// pass them through Store.fail.
type driveReader struct {
	db      bun.IDB
	driveID string
}

func (r driveReader) folder(ctx context.Context, id string) (core.DriveFolder, error) {
	var row driveFolderRow
	err := r.db.NewSelect().Model(&row).Where("id = ?", id).Where("drive_id = ?", r.driveID).Scan(ctx)
	if err != nil {
		return core.DriveFolder{}, notFound(err, "folder")
	}
	return row.core(), nil
}

func (r driveReader) file(ctx context.Context, id string) (core.DriveFile, error) {
	var row driveFileRow
	err := r.db.NewSelect().Model(&row).Where("id = ?", id).Where("drive_id = ?", r.driveID).Scan(ctx)
	if err != nil {
		return core.DriveFile{}, notFound(err, "file")
	}
	return row.core(), nil
}

func (r driveReader) fileByKey(ctx context.Context, key string) (core.DriveFile, error) {
	var row driveFileRow
	err := r.db.NewSelect().Model(&row).Where("storage_key = ?", key).Where("drive_id = ?", r.driveID).Scan(ctx)
	if err != nil {
		return core.DriveFile{}, notFound(err, "file")
	}
	return row.core(), nil
}

// path walks up from the folder with one recursive query, through the
// primary key.
func (r driveReader) path(ctx context.Context, folderID string) ([]core.DriveFolder, error) {
	var rows []driveFolderRow
	err := r.db.NewRaw(`WITH RECURSIVE up (id, parent_id, depth) AS (
			SELECT id, parent_id, 0 FROM drive_folders WHERE drive_id = ? AND id = ?
			UNION ALL
			SELECT f.id, f.parent_id, u.depth + 1
			FROM drive_folders AS f JOIN up AS u ON f.drive_id = ? AND f.id = u.parent_id
			WHERE u.depth < ?
		)
		SELECT `+driveFolderColumns+` FROM up AS u JOIN drive_folders AS f ON f.id = u.id
		ORDER BY u.depth`,
		r.driveID, folderID, r.driveID, maxDriveWalk).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("path: %w", err)
	}
	if len(rows) == 0 {
		return nil, core.NotFound("folder")
	}
	out := make([]core.DriveFolder, len(rows))
	for i, row := range rows {
		out[i] = row.core()
	}
	return out, nil
}

// List implements ports.DriveStore. Each kind is one keyset query on its
// table's live-name index, so a page seeks straight to its cursor:
//
//	index (drive_id, COALESCE(parent_id, ''), name_normalized) WHERE trashed_at IS NULL
//
//	WHERE drive_id = ? AND COALESCE(parent_id, '') = ? AND trashed_at IS NULL
//	  AND name_normalized >= ? AND (name_normalized > ? OR id > ?)
//	ORDER BY name_normalized LIMIT n+1
//
// Live siblings of one kind have distinct normalized names (the index is
// unique), so ordering by name_normalized is ordering by (name_normalized,
// id), and the (name, id) cursor still resumes right when its item has
// since been renamed or trashed. Folders are read first; files fill what
// the page has left, and one row more than asked tells that a next page
// exists. A q.Limit of zero or less lists nothing.
func (s *Store) List(ctx context.Context, driveID string, q core.DriveQuery) (core.DriveListing, error) {
	out, err := driveReader{s.db, driveID}.list(ctx, q)
	if err != nil {
		return core.DriveListing{}, s.fail(ctx, "drive list", err)
	}
	return out, nil
}

func (r driveReader) list(ctx context.Context, q core.DriveQuery) (core.DriveListing, error) {
	var out core.DriveListing
	if q.Limit <= 0 {
		return out, nil
	}
	if q.After == nil || q.After.Kind != core.DriveFileKind {
		var rows []driveFolderRow
		sel := r.db.NewSelect().Model(&rows)
		if q.HideAppFolders {
			sel = sel.Where("app_id IS NULL")
		}
		if err := r.listPage(sel, q, core.DriveFolderKind, q.Limit).Scan(ctx); err != nil {
			return out, fmt.Errorf("list folders: %w", err)
		}
		if len(rows) > q.Limit {
			rows = rows[:q.Limit]
			last := rows[len(rows)-1]
			out.Next = &core.DriveCursor{Kind: core.DriveFolderKind, NameNormalized: last.NameNormalized, ID: last.ID}
		}
		out.Folders = make([]core.DriveFolder, len(rows))
		for i, row := range rows {
			out.Folders[i] = row.core()
		}
		if out.Next != nil {
			return out, nil
		}
	}
	room := q.Limit - len(out.Folders)
	var rows []driveFileRow
	if err := r.listPage(r.db.NewSelect().Model(&rows), q, core.DriveFileKind, room).Scan(ctx); err != nil {
		return out, fmt.Errorf("list files: %w", err)
	}
	if len(rows) > room {
		rows = rows[:room]
		if room > 0 {
			last := rows[len(rows)-1]
			out.Next = &core.DriveCursor{Kind: core.DriveFileKind, NameNormalized: last.NameNormalized, ID: last.ID}
		} else {
			last := out.Folders[len(out.Folders)-1]
			out.Next = &core.DriveCursor{Kind: core.DriveFolderKind, NameNormalized: last.NameNormalized, ID: last.ID}
		}
	}
	out.Files = make([]core.DriveFile, len(rows))
	for i, row := range rows {
		out.Files[i] = row.core()
	}
	return out, nil
}

// listPage adds List's keyset conditions for kind to sel, limited to
// limit+1 rows. The cursor applies only to its own kind.
func (r driveReader) listPage(sel *bun.SelectQuery, q core.DriveQuery, kind core.DriveItemKind, limit int) *bun.SelectQuery {
	sel = sel.Where("drive_id = ?", r.driveID).
		Where("COALESCE(parent_id, '') = ?", q.ParentID). // the index's expression
		Where("trashed_at IS NULL")
	if a := q.After; a != nil && a.Kind == kind {
		sel = sel.Where("name_normalized >= ?", a.NameNormalized).
			Where("(name_normalized > ? OR id > ?)", a.NameNormalized, a.ID)
	}
	return sel.OrderExpr("name_normalized").Limit(int64(limit) + 1)
}

// Trash implements ports.DriveStore: the listed items (trash_root = id),
// each kind one keyset query walking the partial index (drive_id,
// trashed_at, id) WHERE trash_root = id backwards. As List, folders come
// first and one row more than asked tells that a next page exists. A
// q.Limit of zero or less lists nothing.
func (s *Store) Trash(ctx context.Context, driveID string, q core.TrashQuery) (core.TrashListing, error) {
	var out core.TrashListing
	if q.Limit <= 0 {
		return out, nil
	}
	page := func(sel *bun.SelectQuery, kind core.DriveItemKind, limit int) *bun.SelectQuery {
		sel = sel.Where("drive_id = ?", driveID).Where("trash_root = id")
		if a := q.After; a != nil && a.Kind == kind {
			at := a.TrashedAt.UTC()
			sel = sel.Where("trashed_at <= ?", at).Where("(trashed_at < ? OR id < ?)", at, a.ID)
		}
		return sel.OrderExpr("trashed_at DESC, id DESC").Limit(int64(limit) + 1)
	}
	cursor := func(kind core.DriveItemKind, it core.DriveItem) *core.TrashCursor {
		return &core.TrashCursor{TrashedAt: it.TrashedAt, Kind: kind, ID: it.ID}
	}
	if q.After == nil || q.After.Kind != core.DriveFileKind {
		var rows []driveFolderRow
		if err := page(s.db.NewSelect().Model(&rows), core.DriveFolderKind, q.Limit).Scan(ctx); err != nil {
			return core.TrashListing{}, s.fail(ctx, "drive trash: folders", err)
		}
		more := len(rows) > q.Limit
		if more {
			rows = rows[:q.Limit]
		}
		out.Folders = make([]core.DriveFolder, len(rows))
		for i, row := range rows {
			out.Folders[i] = row.core()
		}
		if more {
			out.Next = cursor(core.DriveFolderKind, out.Folders[len(out.Folders)-1].DriveItem)
			return out, nil
		}
	}
	room := q.Limit - len(out.Folders)
	var rows []driveFileRow
	if err := page(s.db.NewSelect().Model(&rows), core.DriveFileKind, room).Scan(ctx); err != nil {
		return core.TrashListing{}, s.fail(ctx, "drive trash: files", err)
	}
	if len(rows) > room {
		rows = rows[:room]
		if room > 0 {
			out.Next = cursor(core.DriveFileKind, rows[len(rows)-1].core().DriveItem)
		} else {
			out.Next = cursor(core.DriveFolderKind, out.Folders[len(out.Folders)-1].DriveItem)
		}
	}
	out.Files = make([]core.DriveFile, len(rows))
	for i, row := range rows {
		out.Files[i] = row.core()
	}
	return out, nil
}

// TrashExpired implements ports.DriveStore: per kind, the listed items
// trashed at or before before, oldest first through the partial index
// (trashed_at, id) WHERE trash_root = id; the two lists are merged by
// TrashedAt, then id (then kind, as testkit.Store). A limit of zero or less
// lists nothing.
func (s *Store) TrashExpired(ctx context.Context, before time.Time, limit int) ([]core.DriveItemRef, error) {
	if limit <= 0 {
		return nil, nil
	}
	type expired struct {
		ref core.DriveItemRef
		at  time.Time
	}
	var items []expired
	for _, kind := range []core.DriveItemKind{core.DriveFolderKind, core.DriveFileKind} {
		table := "drive_folders"
		if kind == core.DriveFileKind {
			table = "drive_files"
		}
		var rows []struct {
			ID        string    `bun:"id"`
			DriveID   string    `bun:"drive_id"`
			TrashedAt time.Time `bun:"trashed_at"`
		}
		err := s.db.NewSelect().Table(table).Column("id", "drive_id", "trashed_at").
			Where("trash_root = id").Where("trashed_at <= ?", before.UTC()).
			OrderExpr("trashed_at, id").Limit(int64(limit)).
			Scan(ctx, &rows)
		if err != nil {
			return nil, s.fail(ctx, "drive trash expired", err)
		}
		for _, row := range rows {
			items = append(items, expired{core.DriveItemRef{DriveID: row.DriveID, Kind: kind, ID: row.ID}, row.TrashedAt})
		}
	}
	slices.SortFunc(items, func(a, b expired) int {
		return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.ref.ID, b.ref.ID), cmp.Compare(a.ref.Kind, b.ref.Kind))
	})
	out := make([]core.DriveItemRef, 0, min(limit, len(items)))
	for _, it := range items[:min(limit, len(items))] {
		out = append(out, it.ref)
	}
	return out, nil
}

// PendingObjectDeletions implements ports.DriveStore: in the order the
// deletes queued them (seq, the primary key). A limit of zero or less lists
// nothing.
func (s *Store) PendingObjectDeletions(ctx context.Context, limit int) ([]core.ObjectDeletion, error) {
	if limit <= 0 {
		return nil, nil
	}
	var rows []objectDeletionRow
	if err := s.db.NewSelect().Model(&rows).OrderExpr("seq").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, s.fail(ctx, "pending object deletions", err)
	}
	out := make([]core.ObjectDeletion, len(rows))
	for i, row := range rows {
		out[i] = core.ObjectDeletion{ID: row.ID, StorageKey: row.StorageKey, CreatedAt: row.CreatedAt.UTC()}
	}
	return out, nil
}

// ObjectsDeleted implements ports.DriveStore with one DELETE … WHERE id IN.
func (s *Store) ObjectsDeleted(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := s.db.NewDelete().Model((*objectDeletionRow)(nil)).Where("id IN (?)", bun.In(ids)).Exec(ctx)
	return s.fail(ctx, "objects deleted", err)
}

// Folder implements ports.DriveStore.
func (s *Store) Folder(ctx context.Context, driveID, id string) (core.DriveFolder, error) {
	f, err := driveReader{s.db, driveID}.folder(ctx, id)
	return f, s.fail(ctx, "drive folder", err)
}

// File implements ports.DriveStore.
func (s *Store) File(ctx context.Context, driveID, id string) (core.DriveFile, error) {
	f, err := driveReader{s.db, driveID}.file(ctx, id)
	return f, s.fail(ctx, "drive file", err)
}

// FileByKey implements ports.DriveStore, through the storage_key index.
func (s *Store) FileByKey(ctx context.Context, driveID, key string) (core.DriveFile, error) {
	f, err := driveReader{s.db, driveID}.fileByKey(ctx, key)
	return f, s.fail(ctx, "drive file by key", err)
}

// Path implements ports.DriveStore with one recursive query.
func (s *Store) Path(ctx context.Context, driveID, folderID string) ([]core.DriveFolder, error) {
	p, err := driveReader{s.db, driveID}.path(ctx, folderID)
	if err != nil {
		return nil, s.fail(ctx, "drive path", err)
	}
	return p, nil
}

// Update implements ports.DriveStore. It runs fn in one transaction that
// first takes the drive's write lock: on PostgreSQL the drives row's
// SELECT … FOR NO KEY UPDATE, which serialises the Updates of one drive
// (and only of that drive) without blocking the KEY SHARE locks that
// foreign-key checks take on the row; on SQLite the IMMEDIATE transaction
// itself, which runs one writer at a time. An unknown drive is
// core.KindNotFound, detail "drive".
//
// fn's error rolls the transaction back and is returned untouched. A
// DriveTx write that the store's guards refuse writes nothing and leaves
// the transaction usable (see driveTx), so fn may handle the error and go
// on.
func (s *Store) Update(ctx context.Context, driveID string, fn func(tx ports.DriveTx) error) error {
	var fnErr error
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		sel := tx.NewSelect().Model((*driveRow)(nil)).Column("id").Where("id = ?", driveID)
		if s.dialect == DialectPostgres {
			sel = sel.For("NO KEY UPDATE")
		}
		var id string
		if err := sel.Scan(ctx, &id); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return core.NotFound("drive").WithDetail("drive")
			}
			return fmt.Errorf("lock drive: %w", err)
		}
		dtx := &driveTx{s: s, tx: tx, r: driveReader{tx, driveID}}
		fnErr = fn(dtx)
		return fnErr
	})
	if fnErr != nil {
		return fnErr
	}
	return s.fail(ctx, "drive update", err)
}
