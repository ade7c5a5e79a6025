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

var _ ports.GalleryStore = (*Store)(nil)

// categoryRow is a gallery_categories row (migrations/*/0003_storage.sql).
type categoryRow struct {
	bun.BaseModel `bun:"table:gallery_categories"`

	ID             string    `bun:"id,pk"`
	StudioID       string    `bun:"studio_id"`
	Name           string    `bun:"name"`
	NameNormalized string    `bun:"name_normalized"`
	CreatedAt      time.Time `bun:"created_at"`
}

func (r categoryRow) core() core.Category {
	return core.Category{
		ID:             r.ID,
		StudioID:       r.StudioID,
		Name:           r.Name,
		NameNormalized: r.NameNormalized,
		CreatedAt:      r.CreatedAt.UTC(),
	}
}

// collectionRow is a gallery_collections row.
type collectionRow struct {
	bun.BaseModel `bun:"table:gallery_collections"`

	ID         string    `bun:"id,pk"`
	StudioID   string    `bun:"studio_id"`
	Name       string    `bun:"name"`
	ClientName string    `bun:"client_name"`
	Date       string    `bun:"date"`
	CategoryID string    `bun:"category_id,nullzero"` // NULL when none
	CreatedAt  time.Time `bun:"created_at"`
	UpdatedAt  time.Time `bun:"updated_at"`
}

func (r collectionRow) core() core.Collection {
	return core.Collection{
		ID:         r.ID,
		StudioID:   r.StudioID,
		Name:       r.Name,
		ClientName: r.ClientName,
		Date:       r.Date,
		CategoryID: r.CategoryID,
		CreatedAt:  r.CreatedAt.UTC(),
		UpdatedAt:  r.UpdatedAt.UTC(),
	}
}

// galleryFileRow is a gallery_files row.
type galleryFileRow struct {
	bun.BaseModel `bun:"table:gallery_files"`

	ID           string    `bun:"id,pk"`
	StudioID     string    `bun:"studio_id"`
	CollectionID string    `bun:"collection_id"`
	ClientName   string    `bun:"client_name"`
	Name         string    `bun:"name"`
	ContentType  string    `bun:"content_type"`
	Size         int64     `bun:"size"`
	StorageKey   string    `bun:"storage_key"`
	ETag         string    `bun:"etag"`
	CreatedAt    time.Time `bun:"created_at"`
}

func newGalleryFileRow(f core.GalleryFile) galleryFileRow {
	return galleryFileRow{
		ID:           f.ID,
		StudioID:     f.StudioID,
		CollectionID: f.CollectionID,
		ClientName:   f.ClientName,
		Name:         f.Name,
		ContentType:  f.ContentType,
		Size:         f.Size,
		StorageKey:   f.StorageKey,
		ETag:         f.ETag,
		CreatedAt:    f.CreatedAt.UTC(),
	}
}

func (r galleryFileRow) core() core.GalleryFile {
	return core.GalleryFile{
		ID:           r.ID,
		StudioID:     r.StudioID,
		CollectionID: r.CollectionID,
		ClientName:   r.ClientName,
		Name:         r.Name,
		ContentType:  r.ContentType,
		Size:         r.Size,
		StorageKey:   r.StorageKey,
		ETag:         r.ETag,
		CreatedAt:    r.CreatedAt.UTC(),
	}
}

// CreateCategory implements ports.GalleryStore. Any unique violation (the
// studio's normalized name, or the id) is core.KindConflict, code
// "category_exists"; an unknown studio is core.KindNotFound (the foreign
// key), as in testkit.Store.
func (s *Store) CreateCategory(ctx context.Context, c core.Category) error {
	row := categoryRow{
		ID:             c.ID,
		StudioID:       c.StudioID,
		Name:           c.Name,
		NameNormalized: c.NameNormalized,
		CreatedAt:      c.CreatedAt.UTC(),
	}
	_, err := s.db.NewInsert().Model(&row).Exec(ctx)
	switch {
	case isUnique(err):
		return conflict("category_exists", "the studio already has a category of this name",
			fmt.Errorf("bunstore: create category: %w", err))
	case isForeignKey(err):
		e := core.NotFound("studio")
		e.Err = fmt.Errorf("bunstore: create category: %w", err)
		return e
	}
	return s.fail(ctx, "create category", err)
}

// Categories implements ports.GalleryStore: by normalized name (byte
// order), through the (studio_id, name_normalized) unique index.
func (s *Store) Categories(ctx context.Context, studioID string) ([]core.Category, error) {
	var rows []categoryRow
	err := s.db.NewSelect().Model(&rows).Where("studio_id = ?", studioID).Order("name_normalized", "id").Scan(ctx)
	if err != nil {
		return nil, s.fail(ctx, "categories", err)
	}
	out := make([]core.Category, len(rows))
	for i, r := range rows {
		out[i] = r.core()
	}
	return out, nil
}

// CategoryByID implements ports.GalleryStore.
func (s *Store) CategoryByID(ctx context.Context, studioID, id string) (core.Category, error) {
	var row categoryRow
	err := s.db.NewSelect().Model(&row).Where("id = ?", id).Where("studio_id = ?", studioID).Scan(ctx)
	if err != nil {
		return core.Category{}, s.fail(ctx, "category by id", notFound(err, "category"))
	}
	return row.core(), nil
}

// CreateCollection implements ports.GalleryStore in one transaction: a
// CategoryID that is not one of the studio's categories is
// core.KindNotFound, detail "category" (the row is locked FOR KEY SHARE on
// PostgreSQL until the collection is stored); an unknown studio is
// core.KindNotFound (the foreign key); a taken id core.KindConflict. As in
// testkit.Store.
func (s *Store) CreateCollection(ctx context.Context, c core.Collection) error {
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if c.CategoryID != "" {
			var found string
			sel := tx.NewSelect().Model((*categoryRow)(nil)).Column("id").
				Where("id = ?", c.CategoryID).Where("studio_id = ?", c.StudioID)
			if err := s.forKeyShare(sel).Scan(ctx, &found); err != nil {
				if errors.Is(err, sql.ErrNoRows) {
					return core.NotFound("category").WithDetail("category")
				}
				return fmt.Errorf("check category: %w", err)
			}
		}
		row := collectionRow{
			ID:         c.ID,
			StudioID:   c.StudioID,
			Name:       c.Name,
			ClientName: c.ClientName,
			Date:       c.Date,
			CategoryID: c.CategoryID,
			CreatedAt:  c.CreatedAt.UTC(),
			UpdatedAt:  c.UpdatedAt.UTC(),
		}
		_, err := tx.NewInsert().Model(&row).Exec(ctx)
		if isForeignKey(err) {
			e := core.NotFound("studio")
			e.Err = fmt.Errorf("bunstore: create collection: %w", err)
			return e
		}
		return err
	})
	return s.fail(ctx, "create collection", err)
}

// Collections implements ports.GalleryStore with keyset paging: WHERE
// studio_id = ? AND id > p.After ORDER BY id LIMIT p.Limit, through the
// (studio_id, id) unique index. A p.Limit of zero or less lists none.
func (s *Store) Collections(ctx context.Context, studioID string, p core.Page) ([]core.Collection, error) {
	if p.Limit <= 0 {
		return nil, nil
	}
	var rows []collectionRow
	sel := s.db.NewSelect().Model(&rows).Where("studio_id = ?", studioID)
	if p.After != "" {
		sel = sel.Where("id > ?", p.After)
	}
	if err := sel.Order("id").Limit(int64(p.Limit)).Scan(ctx); err != nil {
		return nil, s.fail(ctx, "collections", err)
	}
	out := make([]core.Collection, len(rows))
	for i, r := range rows {
		out[i] = r.core()
	}
	return out, nil
}

// CollectionByID implements ports.GalleryStore.
func (s *Store) CollectionByID(ctx context.Context, studioID, id string) (core.Collection, error) {
	var row collectionRow
	err := s.db.NewSelect().Model(&row).Where("id = ?", id).Where("studio_id = ?", studioID).Scan(ctx)
	if err != nil {
		return core.Collection{}, s.fail(ctx, "collection by id", notFound(err, "collection"))
	}
	return row.core(), nil
}

// errStorageKeyTaken tells CompleteUpload, after its transaction has been
// rolled back, that another transaction stored a file under the key.
var errStorageKeyTaken = errors.New("storage key taken")

// CompleteUpload implements ports.GalleryStore in one transaction:
//
//  1. the studio's file under f.StorageKey, when there is one, is returned
//     (created false) and nothing changes;
//  2. a collection that is not the studio's is core.KindNotFound, detail
//     "collection", as in testkit.Store;
//  3. DELETE the reservation (id reservationID, owner f.StudioID) RETURNING
//     its bytes. When there is none, step 1 is tried again before answering
//     core.KindNotFound, detail "reservation": on PostgreSQL a concurrent
//     completion of the same reservation holds its row lock, and once it
//     commits the DELETE finds nothing while a new statement sees its file;
//  4. reserved_bytes -= the reservation's bytes, used_bytes += f.Size;
//  5. INSERT the file ON CONFLICT (storage_key) DO NOTHING. When nothing is
//     inserted a concurrent transaction stored the key first: this one is
//     rolled back and its file returned (created false); when that file is
//     another studio's, core.KindConflict.
//
// A negative f.Size is core.KindInvalid (detail "size"), as in
// testkit.Store.
func (s *Store) CompleteUpload(ctx context.Context, f core.GalleryFile, reservationID string) (core.GalleryFile, bool, error) {
	if f.Size < 0 {
		return core.GalleryFile{}, false, core.Invalid("size", "a file cannot have a negative size")
	}
	var (
		out     core.GalleryFile
		created bool
	)
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		existing, found, err := fileByKey(ctx, tx, f.StudioID, f.StorageKey)
		if err != nil || found {
			out = existing
			return err
		}
		ok, err := tx.NewSelect().Model((*collectionRow)(nil)).
			Where("id = ?", f.CollectionID).Where("studio_id = ?", f.StudioID).Exists(ctx)
		if err != nil {
			return fmt.Errorf("check collection: %w", err)
		}
		if !ok {
			return core.NotFound("collection").WithDetail("collection")
		}
		bytes, found, err := deleteReservation(ctx, tx, f.StudioID, reservationID)
		if err != nil {
			return err
		}
		if !found {
			existing, found, err := fileByKey(ctx, tx, f.StudioID, f.StorageKey)
			if err != nil || found {
				out = existing
				return err
			}
			return core.NotFound("reservation").WithDetail("reservation")
		}
		if err := moveBytes(ctx, tx, f.StudioID, -bytes, f.Size); err != nil {
			return err
		}
		row := newGalleryFileRow(f)
		res, err := tx.NewInsert().Model(&row).On("CONFLICT (storage_key) DO NOTHING").Exec(ctx)
		if err != nil {
			return fmt.Errorf("insert file: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("insert file: %w", err)
		}
		if n == 0 {
			return errStorageKeyTaken
		}
		out, created = row.core(), true
		return nil
	})
	if errors.Is(err, errStorageKeyTaken) {
		existing, err := s.GalleryFileByKey(ctx, f.StudioID, f.StorageKey)
		if core.IsKind(err, core.KindNotFound) {
			return core.GalleryFile{}, false, core.Conflict("conflict", "another file is stored under this key")
		}
		return existing, false, err
	}
	if err != nil {
		return core.GalleryFile{}, false, s.fail(ctx, "complete upload", err)
	}
	return out, created, nil
}

// fileByKey reads the studio's file stored under key; found is false when
// there is none.
func fileByKey(ctx context.Context, tx bun.Tx, studioID, key string) (f core.GalleryFile, found bool, err error) {
	var row galleryFileRow
	err = tx.NewSelect().Model(&row).Where("storage_key = ?", key).Where("studio_id = ?", studioID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return core.GalleryFile{}, false, nil
	}
	if err != nil {
		return core.GalleryFile{}, false, fmt.Errorf("file by key: %w", err)
	}
	return row.core(), true, nil
}

// CollectionFiles implements ports.GalleryStore with keyset paging by id,
// through the (studio_id, collection_id, id) index. A collection that is
// not the studio's is core.KindNotFound, as in testkit.Store, also when
// p.Limit is zero or less (which otherwise lists none).
func (s *Store) CollectionFiles(ctx context.Context, studioID, collectionID string, p core.Page) ([]core.GalleryFile, error) {
	if _, err := s.CollectionByID(ctx, studioID, collectionID); err != nil {
		return nil, err
	}
	if p.Limit <= 0 {
		return nil, nil
	}
	var rows []galleryFileRow
	sel := s.db.NewSelect().Model(&rows).Where("studio_id = ?", studioID).Where("collection_id = ?", collectionID)
	if p.After != "" {
		sel = sel.Where("id > ?", p.After)
	}
	if err := sel.Order("id").Limit(int64(p.Limit)).Scan(ctx); err != nil {
		return nil, s.fail(ctx, "collection files", err)
	}
	out := make([]core.GalleryFile, len(rows))
	for i, r := range rows {
		out[i] = r.core()
	}
	return out, nil
}

// GalleryFileByKey implements ports.GalleryStore.
func (s *Store) GalleryFileByKey(ctx context.Context, studioID, key string) (core.GalleryFile, error) {
	var row galleryFileRow
	err := s.db.NewSelect().Model(&row).Where("storage_key = ?", key).Where("studio_id = ?", studioID).Scan(ctx)
	if err != nil {
		return core.GalleryFile{}, s.fail(ctx, "gallery file by key", notFound(err, "file"))
	}
	return row.core(), nil
}
