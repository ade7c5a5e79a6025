package drive_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/adapters/argon2id"
	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/accounts"
	"github.com/gellhub/gellhub/core/drive"
	"github.com/gellhub/gellhub/core/plans"
	"github.com/gellhub/gellhub/core/uploads"
	"github.com/gellhub/gellhub/ports"
	"github.com/gellhub/gellhub/testkit"
)

var start = time.Date(2026, 8, 3, 9, 30, 0, 0, time.UTC)

const baseURL = "https://gellhub.test"

// unknownFolder and unknownFile are well-formed ids that name nothing.
const (
	unknownFolder = "fld_01K1XH0000000000000000000Z"
	unknownFile   = "file_01K1XH0000000000000000000Z"
)

// racyStore is the memory store whose FileByKey can miss once, as a read
// racing a concurrent complete does.
type racyStore struct {
	*testkit.Store
	staleOnce atomic.Bool
	failDrive atomic.Value // string
}

// Update fails for the drive named by failDrive (a drive whose changes
// keep failing, to see the purge go on with the others).
func (s *racyStore) Update(ctx context.Context, driveID string, fn func(tx ports.DriveTx) error) error {
	if d, _ := s.failDrive.Load().(string); d != "" && d == driveID {
		return core.Internal(errors.New("injected: this drive's changes fail"))
	}
	return s.Store.Update(ctx, driveID, fn)
}

func (s *racyStore) FileByKey(ctx context.Context, driveID, key string) (core.DriveFile, error) {
	if s.staleOnce.CompareAndSwap(true, false) {
		return core.DriveFile{}, core.NotFound("file")
	}
	return s.Store.FileByKey(ctx, driveID, key)
}

// flakyBlobs is the memory blob store whose deletes fail while failDelete
// is set (for Drive's object deletions only).
type flakyBlobs struct {
	*testkit.BlobStore
	failDelete atomic.Bool
}

func (b *flakyBlobs) Delete(ctx context.Context, key string) error {
	if b.failDelete.Load() {
		return core.E(core.KindUnavailable, "object storage is down")
	}
	return b.BlobStore.Delete(ctx, key)
}

type fixture struct {
	clock    *testkit.Clock
	store    *testkit.Store
	dstore   *racyStore // what the drive service uses
	blobs    *testkit.BlobStore
	dblobs   *flakyBlobs // what the drive service uses
	plans    *plans.Service
	accounts *accounts.Service
	uploads  *uploads.Service
	svc      *drive.Service
	key      []byte
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{clock: testkit.NewClock(start), store: testkit.NewStore(), key: bytes.Repeat([]byte{9}, core.MinSigningKeyLen)}
	f.blobs = testkit.NewBlobStore(f.clock)
	f.dstore, f.dblobs = &racyStore{Store: f.store}, &flakyBlobs{BlobStore: f.blobs}
	f.plans = plans.New(f.store, f.clock, rand.Reader, nil)
	require.NoError(t, f.plans.Seed(ctx))
	acc, err := accounts.New(accounts.Config{
		Accounts: f.store, Sessions: f.store, Plans: f.plans, Hasher: argon2id.New(argon2id.TestParams),
		Clock: f.clock, Random: rand.Reader,
	})
	require.NoError(t, err)
	f.accounts = acc
	f.uploads = uploads.New(uploads.Config{Blobs: f.blobs, Quota: f.store, Clock: f.clock, Random: rand.Reader})
	f.svc = drive.New(drive.Config{
		Store: f.dstore, Accounts: acc, Uploads: f.uploads, Apps: f.store, Links: f.store, Blobs: f.dblobs,
		Clock: f.clock, Random: rand.Reader, SigningKey: f.key, BaseURL: baseURL,
	})
	return f
}

// user is a registered account as Drive sees it.
type user struct {
	profileID string
	driveID   string
	key       core.Principal // the Drive key (drv_…)
	session   core.Principal // a browser session
	gallery   core.Principal // the Client Gallery key (sk_…)
}

// register creates a Drive account on planID ("" for Drive Free).
func (f *fixture) register(t *testing.T, planID string) user {
	t.Helper()
	r, err := f.accounts.Register(context.Background(), accounts.RegisterInput{
		Email: "drive-" + rand.Text()[:10] + "@example.com", Password: "correct horse battery", DisplayName: "Drive user",
		AccountType: "drive", PlanID: planID, ClientIP: "192.0.2.1",
	})
	require.NoError(t, err)
	pid := r.Account.Profile.ID
	return user{
		profileID: pid,
		driveID:   r.Account.Drive.ID,
		key:       core.Principal{ProfileID: pid, Via: core.AuthAPIKey, Line: core.LineDrive},
		session:   core.Principal{ProfileID: pid, Via: core.AuthSession},
		gallery:   core.Principal{ProfileID: pid, Via: core.AuthAPIKey, Line: core.LineClientGallery},
	}
}

// drivePlan creates a free Drive plan of limit bytes.
func (f *fixture) drivePlan(t *testing.T, limit int64) string {
	t.Helper()
	admin := core.Principal{Via: core.AuthSession, IsAdmin: true}
	p, err := f.plans.AdminCreate(context.Background(), admin, plans.PlanInput{
		PlanType: "drive", Name: "Tiny Drive", StorageLimitBytes: limit, Price: 0,
	})
	require.NoError(t, err)
	return p.ID
}

func (f *fixture) folder(t *testing.T, who core.Principal, name, parentID string) core.DriveFolder {
	t.Helper()
	d, err := f.svc.CreateFolder(context.Background(), who, name, parentID)
	require.NoError(t, err)
	return d
}

// chain creates n folders, each inside the previous one, the first in
// parentID; it returns them top first.
func (f *fixture) chain(t *testing.T, who core.Principal, parentID string, n int) []core.DriveFolder {
	t.Helper()
	out := make([]core.DriveFolder, 0, n)
	for range n {
		d := f.folder(t, who, "level "+rand.Text()[:8], parentID)
		out = append(out, d)
		parentID = d.ID
	}
	return out
}

// upload streams body into folderID through the proxy upload.
func (f *fixture) upload(t *testing.T, who core.Principal, folderID, name string, body []byte) core.DriveFile {
	t.Helper()
	v, err := f.uploadTo(who, drive.UploadTarget{FolderID: folderID}, name, body)
	require.NoError(t, err)
	return v.File
}

func (f *fixture) uploadTo(who core.Principal, target drive.UploadTarget, name string, body []byte) (drive.FileView, error) {
	return f.svc.Upload(context.Background(), who, drive.UploadInput{
		Target: target, FileName: name, ContentType: "image/jpeg", Body: bytes.NewReader(body), MaxBytes: int64(len(body)),
	})
}

// presigned presigns, PUTs and completes body into target.
func (f *fixture) presigned(t *testing.T, who core.Principal, target drive.UploadTarget, name string, body []byte) drive.FileView {
	t.Helper()
	ctx := context.Background()
	in := uploads.FileInput{FileName: name, ContentType: "image/jpeg", SizeBytes: int64(len(body))}
	p, err := f.svc.Presign(ctx, who, target, in)
	require.NoError(t, err)
	require.NoError(t, f.blobs.Upload(p.Put.URL, p.Put.Headers["Content-Type"], body))
	v, err := f.svc.Complete(ctx, who, target, p.StorageKey, in)
	require.NoError(t, err)
	return v
}

func (f *fixture) trash(t *testing.T, who core.Principal, kind core.DriveItemKind, id string) {
	t.Helper()
	require.NoError(t, f.svc.Trash(context.Background(), who, kind, id))
}

func (f *fixture) getFolder(t *testing.T, u user, id string) core.DriveFolder {
	t.Helper()
	d, err := f.store.Folder(context.Background(), u.driveID, id)
	require.NoError(t, err)
	return d
}

func (f *fixture) getFile(t *testing.T, u user, id string) core.DriveFile {
	t.Helper()
	d, err := f.store.File(context.Background(), u.driveID, id)
	require.NoError(t, err)
	return d
}

func (f *fixture) usage(t *testing.T, u user) core.Usage {
	t.Helper()
	us, err := f.store.Usage(context.Background(), u.driveID)
	require.NoError(t, err)
	return us
}

// listAll collects every page of a folder listing.
func (f *fixture) listAll(t *testing.T, who core.Principal, q drive.ListQuery) ([]core.DriveFolder, []drive.FileView) {
	t.Helper()
	var folders []core.DriveFolder
	var files []drive.FileView
	for pages := 0; ; pages++ {
		require.Less(t, pages, 10000, "the listing does not end")
		l, err := f.svc.List(context.Background(), who, q)
		require.NoError(t, err)
		folders, files = append(folders, l.Folders...), append(files, l.Files...)
		if l.Next == "" {
			return folders, files
		}
		q.Cursor = l.Next
	}
}

// trashListed returns the ids of everything listed in u's recycle bin.
func (f *fixture) trashListed(t *testing.T, who core.Principal) (folders, files []string) {
	t.Helper()
	cursor := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 10000, "the trash listing does not end")
		l, err := f.svc.TrashList(context.Background(), who, cursor, 3)
		require.NoError(t, err)
		for _, d := range l.Folders {
			folders = append(folders, d.ID)
		}
		for _, d := range l.Files {
			files = append(files, d.ID)
		}
		if l.Next == "" {
			return folders, files
		}
		cursor = l.Next
	}
}

// app registers an active Drive partner app owned by owner.
func (f *fixture) app(t *testing.T, owner user, name string) core.PartnerApp {
	t.Helper()
	now := f.clock.Now()
	id, err := core.NewID("app", now, rand.Reader)
	require.NoError(t, err)
	clientID, err := core.NewClientID(rand.Reader)
	require.NoError(t, err)
	a := core.PartnerApp{
		ID: id, ProfileID: owner.profileID, Name: name, Line: core.LineDrive,
		RedirectURIs: []string{"https://partner.example/callback"}, ClientID: clientID,
		SecretDigest: core.Digest("secret"), SecretDisplayPrefix: "gh_secret_abcdef",
		Status: core.AppActive, CreatedAt: now, UpdatedAt: now,
	}
	require.NoError(t, f.store.CreateApp(context.Background(), a))
	return a
}

// link links app to u, as a connect exchange does.
func (f *fixture) link(t *testing.T, u user, a core.PartnerApp) core.ConnectLink {
	t.Helper()
	id, err := core.NewID("link", f.clock.Now(), rand.Reader)
	require.NoError(t, err)
	l, err := f.store.EnsureLink(context.Background(), core.ConnectLink{
		ID: id, ProfileID: u.profileID, AppID: a.ID, CreatedAt: f.clock.Now(), UpdatedAt: f.clock.Now(),
	})
	require.NoError(t, err)
	return l
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

// requireCode checks err's kind and stable code.
func requireCode(t *testing.T, err error, kind core.Kind, code string) {
	t.Helper()
	e := requireKind(t, err, kind, "")
	require.Equal(t, code, e.Code, "got %v", err)
}

func ptr[T any](v T) *T { return &v }

func folderIDs(ds []core.DriveFolder) []string {
	out := make([]string, 0, len(ds))
	for _, d := range ds {
		out = append(out, d.ID)
	}
	return out
}

func fileNames(vs []drive.FileView) []string {
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		out = append(out, v.File.Name)
	}
	return out
}
