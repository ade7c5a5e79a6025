package gallery_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/adapters/argon2id"
	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/accounts"
	"github.com/gellhub/gellhub/core/gallery"
	"github.com/gellhub/gellhub/core/plans"
	"github.com/gellhub/gellhub/core/uploads"
	"github.com/gellhub/gellhub/testkit"
)

var start = time.Date(2026, 8, 3, 9, 30, 0, 0, time.UTC)

const baseURL = "https://gellhub.test"

// failingCompletes makes CompleteUpload fail, to see a proxy upload undone,
// and GalleryFileByKey miss once, as a read racing a concurrent complete.
type failingCompletes struct {
	*testkit.Store
	err       error
	staleOnce atomic.Bool
}

func (f *failingCompletes) GalleryFileByKey(ctx context.Context, studioID, key string) (core.GalleryFile, error) {
	if f.staleOnce.CompareAndSwap(true, false) {
		return core.GalleryFile{}, core.NotFound("file")
	}
	return f.Store.GalleryFileByKey(ctx, studioID, key)
}

func (f *failingCompletes) CompleteUpload(ctx context.Context, file core.GalleryFile, reservationID string) (core.GalleryFile, bool, error) {
	if f.err != nil {
		return core.GalleryFile{}, false, f.err
	}
	return f.Store.CompleteUpload(ctx, file, reservationID)
}

type fixture struct {
	clock    *testkit.Clock
	store    *testkit.Store
	gstore   *failingCompletes
	blobs    *testkit.BlobStore
	plans    *plans.Service
	accounts *accounts.Service
	uploads  *uploads.Service
	svc      *gallery.Service
	key      []byte
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{clock: testkit.NewClock(start), store: testkit.NewStore(), key: bytes.Repeat([]byte{7}, core.MinSigningKeyLen)}
	f.gstore = &failingCompletes{Store: f.store}
	f.blobs = testkit.NewBlobStore(f.clock)
	f.plans = plans.New(f.store, f.clock, rand.Reader, nil)
	require.NoError(t, f.plans.Seed(ctx))
	acc, err := accounts.New(accounts.Config{
		Accounts: f.store, Sessions: f.store, Plans: f.plans, Hasher: argon2id.New(argon2id.TestParams),
		Clock: f.clock, Random: rand.Reader,
	})
	require.NoError(t, err)
	f.accounts = acc
	f.uploads = uploads.New(uploads.Config{Blobs: f.blobs, Quota: f.store, Clock: f.clock, Random: rand.Reader})
	f.svc = gallery.New(gallery.Config{
		Store: f.gstore, Accounts: acc, Uploads: f.uploads, Blobs: f.blobs, Clock: f.clock, Random: rand.Reader,
		SigningKey: f.key, BaseURL: baseURL,
	})
	return f
}

// studio is a registered account as the gallery sees it.
type studio struct {
	id      string // the studio id (the storage owner)
	key     core.Principal
	session core.Principal
	drive   core.Principal
}

func (f *fixture) register(t *testing.T, planID string) studio {
	t.Helper()
	r, err := f.accounts.Register(context.Background(), accounts.RegisterInput{
		Email: "studio-" + rand.Text()[:10] + "@example.com", Password: "correct horse battery", DisplayName: "Studio",
		AccountType: "studio", PlanID: planID, ClientIP: "192.0.2.1",
	})
	require.NoError(t, err)
	pid := r.Account.Profile.ID
	return studio{
		id:      r.Account.Studio.ID,
		key:     core.Principal{ProfileID: pid, Via: core.AuthAPIKey, Line: core.LineClientGallery},
		session: core.Principal{ProfileID: pid, Via: core.AuthSession},
		drive:   core.Principal{ProfileID: pid, Via: core.AuthAPIKey, Line: core.LineDrive},
	}
}

// smallPlan creates a free Client Gallery plan of limit bytes.
func (f *fixture) smallPlan(t *testing.T, limit int64) string {
	t.Helper()
	admin := core.Principal{Via: core.AuthSession, IsAdmin: true}
	p, err := f.plans.AdminCreate(context.Background(), admin, plans.PlanInput{
		PlanType: "clientGallery", Name: "Tiny", StorageLimitBytes: limit, Price: 0, ClientGalleryEnabled: true,
	})
	require.NoError(t, err)
	return p.ID
}

func (f *fixture) collection(t *testing.T, who core.Principal, name string) core.Collection {
	t.Helper()
	c, err := f.svc.CreateCollection(context.Background(), who, gallery.CollectionInput{Name: name, ClientName: "Jane Client", Date: "2026-06-15"})
	require.NoError(t, err)
	return c
}

// upload presigns, PUTs and completes body into col.
func (f *fixture) upload(t *testing.T, who core.Principal, col core.Collection, name string, body []byte) core.GalleryFile {
	t.Helper()
	ctx := context.Background()
	in := uploads.FileInput{FileName: name, ContentType: "image/jpeg", SizeBytes: int64(len(body))}
	target := gallery.UploadTarget{CollectionID: col.ID}
	p, err := f.svc.Presign(ctx, who, target, in)
	require.NoError(t, err)
	require.NoError(t, f.blobs.Upload(p.Put.URL, p.Put.Headers["Content-Type"], body))
	file, err := f.svc.Complete(ctx, who, target, p.StorageKey, in)
	require.NoError(t, err)
	return file
}

func (f *fixture) usage(t *testing.T, s studio) core.Usage {
	t.Helper()
	u, err := f.store.Usage(context.Background(), s.id)
	require.NoError(t, err)
	return u
}

func requireKind(t *testing.T, err error, kind core.Kind, detail string) *core.Error {
	t.Helper()
	require.Error(t, err)
	var e *core.Error
	require.True(t, errors.As(err, &e), "not a core.Error: %v", err)
	require.Equal(t, kind, e.Kind, "got %v", err)
	if detail != "" {
		require.Equal(t, detail, e.Detail, "got %v", err)
	}
	return e
}

func TestCategories(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	a, b := f.register(t, ""), f.register(t, "")

	c, err := f.svc.CreateCategory(ctx, a.key, "  Weddings ")
	require.NoError(t, err)
	require.Equal(t, "Weddings", c.Name)
	require.True(t, strings.HasPrefix(c.ID, "cat_"))
	for _, dup := range []string{"Weddings", "weddings", "WEDDINGS", " wEdDiNgS "} {
		_, err := f.svc.CreateCategory(ctx, a.key, dup)
		e := requireKind(t, err, core.KindConflict, "")
		require.Equal(t, "category_exists", e.Code)
	}
	// Unique per studio only; the session works like the key.
	_, err = f.svc.CreateCategory(ctx, b.session, "Weddings")
	require.NoError(t, err)
	_, err = f.svc.CreateCategory(ctx, a.session, "Portraits")
	require.NoError(t, err)

	for _, bad := range []string{"", "   ", strings.Repeat("x", core.MaxNameLen+1), "a\x00b", "bidi\u202e"} {
		_, err := f.svc.CreateCategory(ctx, a.key, bad)
		requireKind(t, err, core.KindInvalid, "name")
	}

	list, err := f.svc.Categories(ctx, a.key)
	require.NoError(t, err)
	require.Len(t, list, 2)
	require.Equal(t, "Portraits", list[0].Name)
	require.Equal(t, "Weddings", list[1].Name)
	list, err = f.svc.Categories(ctx, b.key)
	require.NoError(t, err)
	require.Len(t, list, 1)
}

func TestCreateCollection(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	a, b := f.register(t, ""), f.register(t, "")
	catA, err := f.svc.CreateCategory(ctx, a.key, "Weddings")
	require.NoError(t, err)
	catB, err := f.svc.CreateCategory(ctx, b.key, "Weddings")
	require.NoError(t, err)

	col, err := f.svc.CreateCollection(ctx, a.key, gallery.CollectionInput{Name: " Wedding 2024 ", ClientName: "John Doe", Date: "2024-06-15", CategoryID: catA.ID})
	require.NoError(t, err)
	require.Equal(t, "Wedding 2024", col.Name)
	require.Equal(t, "2024-06-15", col.Date)
	require.Equal(t, catA.ID, col.CategoryID)
	require.Equal(t, a.id, col.StudioID)
	require.Equal(t, start, col.CreatedAt)

	minimal, err := f.svc.CreateCollection(ctx, a.key, gallery.CollectionInput{Name: "Just a name"})
	require.NoError(t, err)
	require.Empty(t, minimal.Date)
	require.Empty(t, minimal.CategoryID)

	cases := []struct {
		name   string
		in     gallery.CollectionInput
		detail string
	}{
		{"name_missing", gallery.CollectionInput{ClientName: "x"}, "name"},
		{"name_too_long", gallery.CollectionInput{Name: strings.Repeat("n", core.MaxNameLen+1)}, "name"},
		{"client_name_too_long", gallery.CollectionInput{Name: "n", ClientName: strings.Repeat("c", core.MaxNameLen+1)}, "clientName"},
		{"client_name_control", gallery.CollectionInput{Name: "n", ClientName: "a\x1bb"}, "clientName"},
		{"date_not_a_date", gallery.CollectionInput{Name: "n", Date: "tomorrow"}, "date"},
		{"date_us_format", gallery.CollectionInput{Name: "n", Date: "06/15/2024"}, "date"},
		{"date_no_padding", gallery.CollectionInput{Name: "n", Date: "2024-6-5"}, "date"},
		{"date_month_13", gallery.CollectionInput{Name: "n", Date: "2024-13-01"}, "date"},
		{"date_feb_30", gallery.CollectionInput{Name: "n", Date: "2023-02-29"}, "date"},
		{"date_with_time", gallery.CollectionInput{Name: "n", Date: "2024-06-15T10:00:00Z"}, "date"},
		{"category_of_another_studio", gallery.CollectionInput{Name: "n", CategoryID: catB.ID}, "categoryId"},
		{"category_unknown", gallery.CollectionInput{Name: "n", CategoryID: "cat_nope"}, "categoryId"},
		{"category_too_long", gallery.CollectionInput{Name: "n", CategoryID: strings.Repeat("c", core.MaxIDLen+1)}, "categoryId"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.CreateCollection(ctx, a.key, tc.in)
			requireKind(t, err, core.KindInvalid, tc.detail)
		})
	}
	all, err := f.svc.Collections(ctx, a.key, core.Page{Limit: 100})
	require.NoError(t, err)
	require.Len(t, all, 2, "refused collections are not stored")

	_, err = f.svc.CreateCollection(ctx, a.key, gallery.CollectionInput{Name: "leap", Date: "2024-02-29"})
	require.NoError(t, err, "a real leap day is a date")
}

func TestPageOf(t *testing.T) {
	t.Parallel()
	p, err := gallery.PageOf(0, "")
	require.NoError(t, err)
	require.Equal(t, core.Page{Limit: gallery.DefaultPage}, p)
	p, err = gallery.PageOf(gallery.MaxPage, "col_abc")
	require.NoError(t, err)
	require.Equal(t, core.Page{After: "col_abc", Limit: gallery.MaxPage}, p)
	for _, limit := range []int{-1, gallery.MaxPage + 1} {
		_, err := gallery.PageOf(limit, "")
		requireKind(t, err, core.KindInvalid, "limit")
	}
	for _, cursor := range []string{"a/b", "a?b", "a#b", "a%2f", "a b", strings.Repeat("c", core.MaxIDLen+1)} {
		_, err := gallery.PageOf(10, cursor)
		requireKind(t, err, core.KindInvalid, "cursor")
	}
}

func TestCollectionsPagination(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	a := f.register(t, "")
	for i := range 5 {
		f.clock.Advance(time.Millisecond)
		f.collection(t, a.key, "Shoot "+string(rune('A'+i)))
	}
	all, err := f.svc.Collections(ctx, a.key, core.Page{Limit: 100})
	require.NoError(t, err)
	require.Len(t, all, 5)
	var paged []core.Collection
	after := ""
	for {
		page, err := f.svc.Collections(ctx, a.key, core.Page{After: after, Limit: 2})
		require.NoError(t, err)
		paged = append(paged, page...)
		if len(page) < 2 {
			break
		}
		after = page[len(page)-1].ID
	}
	require.Equal(t, all, paged)
	for i, c := range all {
		require.Equal(t, "Shoot "+string(rune('A'+i)), c.Name, "ids sort in creation order")
	}
}

func TestDriveKeyIsForbidden(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	a := f.register(t, "")
	col := f.collection(t, a.key, "Shoot")
	d := a.drive
	target := gallery.UploadTarget{CollectionID: col.ID}
	in := uploads.FileInput{FileName: "a.jpg", ContentType: "image/jpeg", SizeBytes: 3}
	calls := map[string]func() error{
		"Categories":       func() error { _, err := f.svc.Categories(ctx, d); return err },
		"CreateCategory":   func() error { _, err := f.svc.CreateCategory(ctx, d, "x"); return err },
		"Collections":      func() error { _, err := f.svc.Collections(ctx, d, core.Page{Limit: 1}); return err },
		"CreateCollection": func() error { _, err := f.svc.CreateCollection(ctx, d, gallery.CollectionInput{Name: "x"}); return err },
		"Presign":          func() error { _, err := f.svc.Presign(ctx, d, target, in); return err },
		"Complete": func() error {
			_, err := f.svc.Complete(ctx, d, target, "clientGallery/"+a.id+"/up_x/a.jpg", in)
			return err
		},
		"Upload": func() error {
			_, err := f.svc.Upload(ctx, d, gallery.UploadInput{Target: target, FileName: "a.jpg", ContentType: "image/jpeg", Body: strings.NewReader("abc"), MaxBytes: 3})
			return err
		},
		"Files":   func() error { _, err := f.svc.Files(ctx, d, col.ID, core.Page{Limit: 1}); return err },
		"Storage": func() error { _, _, err := f.svc.Storage(ctx, d); return err },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) { requireKind(t, call(), core.KindForbidden, "") })
	}
	require.Equal(t, core.Usage{}, f.usage(t, a))
}

func TestAnotherStudiosCollectionIsNotFound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	a, b := f.register(t, ""), f.register(t, "")
	colA := f.collection(t, a.key, "A's shoot")
	f.upload(t, a.key, colA, "a.jpg", []byte("abc"))
	target := gallery.UploadTarget{CollectionID: colA.ID}
	in := uploads.FileInput{FileName: "b.jpg", ContentType: "image/jpeg", SizeBytes: 3}

	_, err := f.svc.Files(ctx, b.key, colA.ID, core.Page{Limit: 10})
	requireKind(t, err, core.KindNotFound, "")
	_, err = f.svc.Presign(ctx, b.key, target, in)
	requireKind(t, err, core.KindNotFound, "")
	_, err = f.svc.Upload(ctx, b.key, gallery.UploadInput{Target: target, FileName: "b.jpg", Body: strings.NewReader("abc"), MaxBytes: 3})
	requireKind(t, err, core.KindNotFound, "")

	// b presigns into its own collection and completes into a's: 404.
	colB := f.collection(t, b.key, "B's shoot")
	p, err := f.svc.Presign(ctx, b.key, gallery.UploadTarget{CollectionID: colB.ID}, in)
	require.NoError(t, err)
	require.NoError(t, f.blobs.Upload(p.Put.URL, "image/jpeg", []byte("xyz")))
	_, err = f.svc.Complete(ctx, b.key, target, p.StorageKey, in)
	requireKind(t, err, core.KindNotFound, "")

	// Unknown and over-long ids read the same.
	for _, id := range []string{"col_nope", strings.Repeat("c", core.MaxIDLen+1)} {
		_, err = f.svc.Files(ctx, a.key, id, core.Page{Limit: 10})
		requireKind(t, err, core.KindNotFound, "")
	}
	_, err = f.svc.Presign(ctx, a.key, gallery.UploadTarget{}, in)
	requireKind(t, err, core.KindInvalid, "collectionId")
	_, err = f.svc.Presign(ctx, a.key, gallery.UploadTarget{CollectionID: colA.ID, ClientName: strings.Repeat("c", core.MaxNameLen+1)}, in)
	requireKind(t, err, core.KindInvalid, "clientName")
	require.Equal(t, core.Usage{ReservedBytes: 3}, f.usage(t, b), "only b's own presign holds bytes")
	require.Equal(t, core.Usage{UsedBytes: 3}, f.usage(t, a))
}
