package ports

import (
	"context"
	"time"

	"github.com/gellhub/gellhub/core"
)

// QuotaStore keeps each owner's (studio's, drive's) storage usage and the
// reservations of uploads in flight. The rule "used + reserved never
// exceeds the limit" holds in one atomic call.
type QuotaStore interface {
	// Reserve records r and adds r.Bytes to the owner's reserved bytes, in
	// one atomic step, only when used + reserved + r.Bytes <= limit; else
	// KindQuotaExceeded and nothing changes. Concurrent reservations never
	// overshoot. KindConflict when r.StorageKey is already reserved.
	Reserve(ctx context.Context, r core.Reservation, limit int64) error

	// ReservationByKey returns the owner's open reservation of storageKey;
	// KindNotFound when there is none (never reserved, completed, released).
	ReservationByKey(ctx context.Context, ownerID, storageKey string) (core.Reservation, error)

	// Release drops a reservation and gives its bytes back, atomically.
	// Releasing an absent reservation is not an error.
	Release(ctx context.Context, ownerID, reservationID string) error

	// ExpiredReservations lists up to limit reservations expired at now,
	// oldest first.
	ExpiredReservations(ctx context.Context, now time.Time, limit int) ([]core.Reservation, error)

	// Usage returns the owner's used and reserved bytes (zero for an owner
	// that never stored anything).
	Usage(ctx context.Context, ownerID string) (core.Usage, error)
}

// GalleryStore persists the Client Gallery: categories, collections and
// their files. Every read is scoped to the studio: another studio's id is
// KindNotFound.
type GalleryStore interface {
	// CreateCategory stores a category; KindConflict, code
	// "category_exists", when the studio has one of that normalized name.
	CreateCategory(ctx context.Context, c core.Category) error

	// Categories lists a studio's categories by name.
	Categories(ctx context.Context, studioID string) ([]core.Category, error)

	// CategoryByID returns one of the studio's categories; KindNotFound.
	CategoryByID(ctx context.Context, studioID, id string) (core.Category, error)

	// CreateCollection stores a collection.
	CreateCollection(ctx context.Context, c core.Collection) error

	// Collections pages through a studio's collections by id (creation
	// order).
	Collections(ctx context.Context, studioID string, p core.Page) ([]core.Collection, error)

	// CollectionByID returns one of the studio's collections; KindNotFound.
	CollectionByID(ctx context.Context, studioID, id string) (core.Collection, error)

	// CompleteUpload records f and settles its reservation, in one
	// transaction: when a file with f.StorageKey already exists it is
	// returned as is (created false) and nothing changes; otherwise the
	// reservation (owner f.StudioID, id reservationID) is deleted, its
	// bytes leave the reserved count, f.Size joins the used count, and f is
	// stored (created true). KindNotFound, detail "reservation", when the
	// reservation is gone.
	CompleteUpload(ctx context.Context, f core.GalleryFile, reservationID string) (stored core.GalleryFile, created bool, err error)

	// CollectionFiles pages through a collection's files by id.
	CollectionFiles(ctx context.Context, studioID, collectionID string, p core.Page) ([]core.GalleryFile, error)

	// GalleryFileByKey returns the studio's file stored under key;
	// KindNotFound.
	GalleryFileByKey(ctx context.Context, studioID, key string) (core.GalleryFile, error)
}
