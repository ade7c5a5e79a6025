package testkit

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

var (
	_ ports.QuotaStore   = (*Store)(nil)
	_ ports.GalleryStore = (*Store)(nil)
)

// storageState is the part of Store that holds quotas and the Client
// Gallery. It is guarded by Store.mu.
type storageState struct {
	usage        map[string]core.Usage       // owner id → usage; absent until the first Reserve
	reservations map[string]core.Reservation // id → reservation
	reservedKeys map[string]string           // storage key → reservation id
	categories   map[string]core.Category    // id → category
	collections  map[string]core.Collection  // id → collection
	files        map[string]core.GalleryFile // id → file
	fileKeys     map[string]string           // storage key → file id
}

func newStorageState() storageState {
	return storageState{
		usage:        map[string]core.Usage{},
		reservations: map[string]core.Reservation{},
		reservedKeys: map[string]string{},
		categories:   map[string]core.Category{},
		collections:  map[string]core.Collection{},
		files:        map[string]core.GalleryFile{},
		fileKeys:     map[string]string{},
	}
}

// Reserve implements ports.QuotaStore. A storage key or id already
// reserved is core.KindConflict, code "reservation_exists"; negative bytes
// are core.KindInvalid (detail "bytes"), as in the SQL stores.
func (s *Store) Reserve(_ context.Context, r core.Reservation, limit int64) error {
	if r.Bytes < 0 {
		return core.Invalid("bytes", "a reservation cannot hold negative bytes")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := &s.storage
	if _, taken := st.reservations[r.ID]; taken {
		return core.Conflict("reservation_exists", "the storage key is already reserved")
	}
	if _, taken := st.reservedKeys[r.StorageKey]; taken {
		return core.Conflict("reservation_exists", "the storage key is already reserved")
	}
	u := st.usage[r.OwnerID]
	if u.UsedBytes+u.ReservedBytes+r.Bytes > limit {
		return core.E(core.KindQuotaExceeded, "the upload would exceed the storage limit").WithDetail("storage")
	}
	u.ReservedBytes += r.Bytes
	st.usage[r.OwnerID] = u
	st.reservations[r.ID] = r
	st.reservedKeys[r.StorageKey] = r.ID
	return nil
}

// ReservationByKey implements ports.QuotaStore.
func (s *Store) ReservationByKey(_ context.Context, ownerID, storageKey string) (core.Reservation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.storage.reservedKeys[storageKey]
	r := s.storage.reservations[id]
	if !ok || r.OwnerID != ownerID {
		return core.Reservation{}, core.NotFound("reservation")
	}
	return r, nil
}

// Release implements ports.QuotaStore. Another owner's reservation is left
// alone.
func (s *Store) Release(_ context.Context, ownerID, reservationID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropReservation(ownerID, reservationID)
	return nil
}

// dropReservation removes the owner's reservation and takes its bytes off
// the reserved count; it reports whether there was one. s.mu is held.
func (s *Store) dropReservation(ownerID, id string) (core.Reservation, bool) {
	st := &s.storage
	r, ok := st.reservations[id]
	if !ok || r.OwnerID != ownerID {
		return core.Reservation{}, false
	}
	delete(st.reservations, id)
	delete(st.reservedKeys, r.StorageKey)
	u := st.usage[ownerID]
	u.ReservedBytes -= r.Bytes
	st.usage[ownerID] = u
	return r, true
}

// ExpiredReservations implements ports.QuotaStore: reservations whose
// ExpiresAt is at or before now, by ExpiresAt then id. A limit of zero or
// less lists none.
func (s *Store) ExpiredReservations(_ context.Context, now time.Time, limit int) ([]core.Reservation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if limit <= 0 {
		return nil, nil
	}
	var out []core.Reservation
	for _, r := range s.storage.reservations {
		if !now.Before(r.ExpiresAt) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b core.Reservation) int {
		return cmp.Or(a.ExpiresAt.Compare(b.ExpiresAt), strings.Compare(a.ID, b.ID))
	})
	return out[:min(len(out), limit)], nil
}

// Usage implements ports.QuotaStore.
func (s *Store) Usage(_ context.Context, ownerID string) (core.Usage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.storage.usage[ownerID], nil
}

// studioExists reports whether a studio has id. s.mu is held.
func (s *Store) studioExists(id string) bool {
	for _, st := range s.studios {
		if st.ID == id {
			return true
		}
	}
	return false
}

// CreateCategory implements ports.GalleryStore. A taken id is
// core.KindConflict, code "category_exists", like a taken name; an unknown
// studio is core.KindNotFound, as the SQL stores' foreign key makes it.
func (s *Store) CreateCategory(_ context.Context, c core.Category) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := &s.storage
	_, taken := st.categories[c.ID]
	for _, other := range st.categories {
		taken = taken || (other.StudioID == c.StudioID && other.NameNormalized == c.NameNormalized)
	}
	if taken {
		return core.Conflict("category_exists", "the studio already has a category of this name")
	}
	if !s.studioExists(c.StudioID) {
		return core.NotFound("studio")
	}
	st.categories[c.ID] = c
	return nil
}

// Categories implements ports.GalleryStore: by normalized name (byte
// order), as the SQL stores list them.
func (s *Store) Categories(_ context.Context, studioID string) ([]core.Category, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []core.Category
	for _, c := range s.storage.categories {
		if c.StudioID == studioID {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b core.Category) int {
		return cmp.Or(strings.Compare(a.NameNormalized, b.NameNormalized), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

// CategoryByID implements ports.GalleryStore.
func (s *Store) CategoryByID(_ context.Context, studioID, id string) (core.Category, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.storage.categories[id]
	if !ok || c.StudioID != studioID {
		return core.Category{}, core.NotFound("category")
	}
	return c, nil
}

// CreateCollection implements ports.GalleryStore. A CategoryID that is not
// one of the studio's categories is core.KindNotFound, detail "category";
// an unknown studio is core.KindNotFound; a taken id core.KindConflict. As
// in the SQL stores.
func (s *Store) CreateCollection(_ context.Context, c core.Collection) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := &s.storage
	if c.CategoryID != "" {
		if cat, ok := st.categories[c.CategoryID]; !ok || cat.StudioID != c.StudioID {
			return core.NotFound("category").WithDetail("category")
		}
	}
	if _, taken := st.collections[c.ID]; taken {
		return core.Conflict("conflict", "a collection with this id already exists")
	}
	if !s.studioExists(c.StudioID) {
		return core.NotFound("studio")
	}
	st.collections[c.ID] = c
	return nil
}

// Collections implements ports.GalleryStore: by id after p.After, at most
// p.Limit (none when it is zero or less).
func (s *Store) Collections(_ context.Context, studioID string, p core.Page) ([]core.Collection, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.Limit <= 0 {
		return nil, nil
	}
	var out []core.Collection
	for _, c := range s.storage.collections {
		if c.StudioID == studioID && c.ID > p.After {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b core.Collection) int { return strings.Compare(a.ID, b.ID) })
	return out[:min(len(out), p.Limit)], nil
}

// CollectionByID implements ports.GalleryStore.
func (s *Store) CollectionByID(_ context.Context, studioID, id string) (core.Collection, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.storage.collections[id]
	if !ok || c.StudioID != studioID {
		return core.Collection{}, core.NotFound("collection")
	}
	return c, nil
}

// CompleteUpload implements ports.GalleryStore, checking in the order the
// SQL stores do: the studio's file under the key (returned, created false),
// a collection that is not the studio's (core.KindNotFound, detail
// "collection"), the reservation (core.KindNotFound, detail
// "reservation"), then a key or id taken by another file
// (core.KindConflict). A negative f.Size is core.KindInvalid, detail
// "size". Nothing changes unless the file is stored.
func (s *Store) CompleteUpload(_ context.Context, f core.GalleryFile, reservationID string) (core.GalleryFile, bool, error) {
	if f.Size < 0 {
		return core.GalleryFile{}, false, core.Invalid("size", "a file cannot have a negative size")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := &s.storage
	if id, ok := st.fileKeys[f.StorageKey]; ok && st.files[id].StudioID == f.StudioID {
		return st.files[id], false, nil
	}
	if c, ok := st.collections[f.CollectionID]; !ok || c.StudioID != f.StudioID {
		return core.GalleryFile{}, false, core.NotFound("collection").WithDetail("collection")
	}
	if r, ok := st.reservations[reservationID]; !ok || r.OwnerID != f.StudioID {
		return core.GalleryFile{}, false, core.NotFound("reservation").WithDetail("reservation")
	}
	if _, taken := st.fileKeys[f.StorageKey]; taken {
		return core.GalleryFile{}, false, core.Conflict("conflict", "another file is stored under this key")
	}
	if _, taken := st.files[f.ID]; taken {
		return core.GalleryFile{}, false, core.Conflict("conflict", "a file with this id already exists")
	}
	s.dropReservation(f.StudioID, reservationID)
	u := st.usage[f.StudioID]
	u.UsedBytes += f.Size
	st.usage[f.StudioID] = u
	st.files[f.ID] = f
	st.fileKeys[f.StorageKey] = f.ID
	return f, true, nil
}

// CollectionFiles implements ports.GalleryStore: by id after p.After, at
// most p.Limit (none when it is zero or less). A collection that is not
// the studio's is core.KindNotFound, as in the SQL stores.
func (s *Store) CollectionFiles(_ context.Context, studioID, collectionID string, p core.Page) ([]core.GalleryFile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.storage.collections[collectionID]; !ok || c.StudioID != studioID {
		return nil, core.NotFound("collection")
	}
	if p.Limit <= 0 {
		return nil, nil
	}
	var out []core.GalleryFile
	for _, f := range s.storage.files {
		if f.StudioID == studioID && f.CollectionID == collectionID && f.ID > p.After {
			out = append(out, f)
		}
	}
	slices.SortFunc(out, func(a, b core.GalleryFile) int { return strings.Compare(a.ID, b.ID) })
	return out[:min(len(out), p.Limit)], nil
}

// GalleryFileByKey implements ports.GalleryStore.
func (s *Store) GalleryFileByKey(_ context.Context, studioID, key string) (core.GalleryFile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.storage.fileKeys[key]
	f := s.storage.files[id]
	if !ok || f.StudioID != studioID {
		return core.GalleryFile{}, core.NotFound("file")
	}
	return f, nil
}
