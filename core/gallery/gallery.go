// Package gallery holds the Client Gallery's use cases: categories,
// collections, uploads into a collection (presigned or streamed through
// the API) and the signed media links clients open.
package gallery

import (
	"context"
	"io"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/accounts"
	"github.com/gellhub/gellhub/core/uploads"
	"github.com/gellhub/gellhub/ports"
)

// Defaults and limits.
const (
	DefaultMediaTTL = time.Hour
	DefaultPage     = 100
	MaxPage         = 1000
)

// Config wires a Service.
type Config struct {
	Store      ports.GalleryStore
	Accounts   *accounts.Service
	Uploads    *uploads.Service
	Blobs      ports.BlobStore
	Clock      ports.Clock
	Random     io.Reader
	SigningKey []byte // media tokens; at least core.MinSigningKeyLen bytes
	BaseURL    string // media URLs are BaseURL + "/api/media?t=…"
	MediaTTL   time.Duration
}

// Service runs the Client Gallery use cases.
type Service struct{ cfg Config }

// New returns a Service.
func New(cfg Config) *Service {
	if cfg.MediaTTL <= 0 {
		cfg.MediaTTL = DefaultMediaTTL
	}
	return &Service{cfg: cfg}
}

func (s *Service) now() time.Time { return s.cfg.Clock.Now().UTC().Truncate(time.Microsecond) }

// studio resolves the caller's studio and storage owner. Client Gallery
// routes take the Client Gallery key (another line's key is forbidden) or
// a browser session.
func (s *Service) studio(ctx context.Context, who core.Principal) (uploads.Owner, error) {
	if who.Via == core.AuthAPIKey && who.Line != core.LineClientGallery {
		return uploads.Owner{}, core.Forbidden("this route takes the Client Gallery key (sk_…)")
	}
	id, limit, err := s.cfg.Accounts.StorageOwner(ctx, who.ProfileID, core.LineClientGallery)
	if err != nil {
		return uploads.Owner{}, err
	}
	return uploads.Owner{ID: id, Line: core.LineClientGallery, Limit: limit}, nil
}

// studioID resolves only the studio (reads need no eligible plan).
func (s *Service) studioID(ctx context.Context, who core.Principal) (string, error) {
	if who.Via == core.AuthAPIKey && who.Line != core.LineClientGallery {
		return "", core.Forbidden("this route takes the Client Gallery key (sk_…)")
	}
	st, err := s.cfg.Accounts.Studio(ctx, who.ProfileID)
	if err != nil {
		return "", err
	}
	return st.ID, nil
}

// PageOf validates a page request: limit 1–1000 (default 100), an opaque
// cursor.
func PageOf(limit int, cursor string) (core.Page, error) {
	if limit == 0 {
		limit = DefaultPage
	}
	if limit < 1 || limit > MaxPage {
		return core.Page{}, core.Invalid("limit", "limit must be between 1 and %d", MaxPage)
	}
	if cursor != "" && !core.ValidID(cursor) {
		return core.Page{}, core.Invalid("cursor", "cursor is not valid")
	}
	return core.Page{After: cursor, Limit: limit}, nil
}

// Categories lists the caller's categories.
func (s *Service) Categories(ctx context.Context, who core.Principal) ([]core.Category, error) {
	sid, err := s.studioID(ctx, who)
	if err != nil {
		return nil, err
	}
	cs, err := s.cfg.Store.Categories(ctx, sid)
	return cs, core.Errorf("categories", err)
}

// CreateCategory adds a category; a name the studio already uses (any
// case) is KindConflict "category_exists".
func (s *Service) CreateCategory(ctx context.Context, who core.Principal, name string) (core.Category, error) {
	sid, err := s.studioID(ctx, who)
	if err != nil {
		return core.Category{}, err
	}
	name, err = core.CleanText("name", name, core.MaxNameLen, true)
	if err != nil {
		return core.Category{}, err
	}
	now := s.now()
	id, err := core.NewID("cat", now, s.cfg.Random)
	if err != nil {
		return core.Category{}, core.Internal(err)
	}
	c := core.Category{ID: id, StudioID: sid, Name: name, NameNormalized: strings.ToLower(name), CreatedAt: now}
	if err := s.cfg.Store.CreateCategory(ctx, c); err != nil {
		return core.Category{}, core.Errorf("create category", err)
	}
	return c, nil
}

// CollectionInput is a new collection.
type CollectionInput struct {
	Name       string
	ClientName string
	Date       string
	CategoryID string
}

var datePattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// CreateCollection adds a collection; a category of another studio is
// KindInvalid like a missing one.
func (s *Service) CreateCollection(ctx context.Context, who core.Principal, in CollectionInput) (core.Collection, error) {
	sid, err := s.studioID(ctx, who)
	if err != nil {
		return core.Collection{}, err
	}
	c := core.Collection{StudioID: sid, CategoryID: in.CategoryID}
	if c.Name, err = core.CleanText("name", in.Name, core.MaxNameLen, true); err != nil {
		return core.Collection{}, err
	}
	if c.ClientName, err = core.CleanText("clientName", in.ClientName, core.MaxNameLen, false); err != nil {
		return core.Collection{}, err
	}
	if in.Date != "" {
		if _, perr := time.Parse(time.DateOnly, in.Date); perr != nil || !datePattern.MatchString(in.Date) {
			return core.Collection{}, core.Invalid("date", "date must be a calendar date YYYY-MM-DD")
		}
		c.Date = in.Date
	}
	if in.CategoryID != "" {
		if !core.ValidID(in.CategoryID) {
			return core.Collection{}, core.Invalid("categoryId", "categoryId names no category of this studio")
		}
		if _, err := s.cfg.Store.CategoryByID(ctx, sid, in.CategoryID); err != nil {
			if core.IsKind(err, core.KindNotFound) {
				return core.Collection{}, core.Invalid("categoryId", "categoryId names no category of this studio")
			}
			return core.Collection{}, core.Errorf("category", err)
		}
	}
	now := s.now()
	if c.ID, err = core.NewID("col", now, s.cfg.Random); err != nil {
		return core.Collection{}, core.Internal(err)
	}
	c.CreatedAt, c.UpdatedAt = now, now
	if err := s.cfg.Store.CreateCollection(ctx, c); err != nil {
		return core.Collection{}, core.Errorf("create collection", err)
	}
	return c, nil
}

// Collections pages through the caller's collections.
func (s *Service) Collections(ctx context.Context, who core.Principal, p core.Page) ([]core.Collection, error) {
	sid, err := s.studioID(ctx, who)
	if err != nil {
		return nil, err
	}
	cs, err := s.cfg.Store.Collections(ctx, sid, p)
	return cs, core.Errorf("collections", err)
}

func (s *Service) collection(ctx context.Context, studioID, id, field string) (core.Collection, error) {
	if id == "" {
		return core.Collection{}, core.Invalid(field, "%s is required", field)
	}
	if !core.ValidID(id) {
		return core.Collection{}, core.NotFound("collection")
	}
	c, err := s.cfg.Store.CollectionByID(ctx, studioID, id)
	return c, core.Errorf("collection", err)
}

// UploadTarget is where a file goes: a collection and the client it is
// for (the collection's client when empty).
type UploadTarget struct {
	CollectionID string
	ClientName   string
}

func (s *Service) target(ctx context.Context, o uploads.Owner, t UploadTarget) (core.Collection, string, error) {
	col, err := s.collection(ctx, o.ID, t.CollectionID, "collectionId")
	if err != nil {
		return core.Collection{}, "", err
	}
	client, err := core.CleanText("clientName", t.ClientName, core.MaxNameLen, false)
	if err != nil {
		return core.Collection{}, "", err
	}
	if client == "" {
		client = col.ClientName
	}
	return col, client, nil
}

// Presign validates the upload and its collection and returns a PUT URL.
func (s *Service) Presign(ctx context.Context, who core.Principal, t UploadTarget, f uploads.FileInput) (uploads.Presigned, error) {
	o, err := s.studio(ctx, who)
	if err != nil {
		return uploads.Presigned{}, err
	}
	if _, _, err := s.target(ctx, o, t); err != nil {
		return uploads.Presigned{}, err
	}
	return s.cfg.Uploads.Presign(ctx, o, f)
}

// Complete records a presigned upload once its object is in place.
// Completing the same storageKey again returns the same file.
func (s *Service) Complete(ctx context.Context, who core.Principal, t UploadTarget, key string, f uploads.FileInput) (core.GalleryFile, error) {
	o, err := s.studio(ctx, who)
	if err != nil {
		return core.GalleryFile{}, err
	}
	if key == "" {
		return core.GalleryFile{}, core.Invalid("storageKey", "storageKey is required")
	}
	if len(key) > 2048 || !o.Owns(key) {
		return core.GalleryFile{}, core.Forbidden("this storageKey was not presigned for this account")
	}
	if done, err := s.cfg.Store.GalleryFileByKey(ctx, o.ID, key); err == nil {
		return done, nil // idempotent: already completed
	} else if !core.IsKind(err, core.KindNotFound) {
		return core.GalleryFile{}, core.Errorf("complete", err)
	}
	col, client, err := s.target(ctx, o, t)
	if err != nil {
		return core.GalleryFile{}, err
	}
	name, err := s.cfg.Uploads.CheckFile(f)
	if err != nil {
		return core.GalleryFile{}, err
	}
	r, info, err := s.cfg.Uploads.Check(ctx, o, key, f.SizeBytes)
	if err != nil {
		// A concurrent complete of the same key (a client's retry) may have
		// recorded it and settled the reservation since the lookup above:
		// that is the same record, not a 403.
		if done, ferr := s.cfg.Store.GalleryFileByKey(ctx, o.ID, key); ferr == nil {
			return done, nil
		}
		return core.GalleryFile{}, err
	}
	ct := info.ContentType // what the storage holds (the presigned type), not what complete says
	if ct == "" {
		ct = f.ContentType
	}
	return s.record(ctx, o, col, client, name, ct, key, info.Size, info.ETag, r.ID)
}

func (s *Service) record(ctx context.Context, o uploads.Owner, col core.Collection, client, name, contentType, key string, size int64, etag, reservationID string) (core.GalleryFile, error) {
	now := s.now()
	id, err := core.NewID("file", now, s.cfg.Random)
	if err != nil {
		return core.GalleryFile{}, core.Internal(err)
	}
	file := core.GalleryFile{
		ID: id, StudioID: o.ID, CollectionID: col.ID, ClientName: client, Name: name,
		ContentType: contentType, Size: size, StorageKey: key, ETag: etag, CreatedAt: now,
	}
	stored, _, err := s.cfg.Store.CompleteUpload(ctx, file, reservationID)
	if err != nil {
		return core.GalleryFile{}, core.Errorf("complete upload", err)
	}
	return stored, nil
}

// UploadInput is a proxy upload: the file streams from Body.
type UploadInput struct {
	Target      UploadTarget
	FileName    string
	ContentType string
	Body        io.Reader
	MaxBytes    int64 // the request's length: an upper bound of the file's
}

// Upload streams a file into a collection. The quota is enforced before
// and while streaming; on any failure nothing is stored or counted.
func (s *Service) Upload(ctx context.Context, who core.Principal, in UploadInput) (core.GalleryFile, error) {
	o, err := s.studio(ctx, who)
	if err != nil {
		return core.GalleryFile{}, err
	}
	col, client, err := s.target(ctx, o, in.Target)
	if err != nil {
		return core.GalleryFile{}, err
	}
	st, err := s.cfg.Uploads.Stream(ctx, o, in.FileName, in.ContentType, in.Body, in.MaxBytes)
	if err != nil {
		return core.GalleryFile{}, err
	}
	f, err := s.record(ctx, o, col, client, st.Name, st.Info.ContentType, st.Info.Key, st.Info.Size, st.Info.ETag, st.Reservation.ID)
	if err != nil {
		s.cfg.Uploads.Abandon(ctx, st)
		return core.GalleryFile{}, err
	}
	return f, nil
}

// FileView is a file with its signed, expiring media link.
type FileView struct {
	File       core.GalleryFile
	URL        string
	MediaToken string
	Expires    time.Time
}

// Files pages through a collection's files with media links.
func (s *Service) Files(ctx context.Context, who core.Principal, collectionID string, p core.Page) ([]FileView, error) {
	sid, err := s.studioID(ctx, who)
	if err != nil {
		return nil, err
	}
	if _, err := s.collection(ctx, sid, collectionID, "id"); err != nil {
		return nil, err
	}
	files, err := s.cfg.Store.CollectionFiles(ctx, sid, collectionID, p)
	if err != nil {
		return nil, core.Errorf("collection files", err)
	}
	exp := s.now().Add(s.cfg.MediaTTL)
	out := make([]FileView, 0, len(files))
	for _, f := range files {
		tok, err := core.SignMediaToken(s.cfg.SigningKey, core.MediaClaims{Key: f.StorageKey, OwnerID: sid, Name: f.Name, ContentType: f.ContentType, Expires: exp})
		if err != nil {
			return nil, err
		}
		out = append(out, FileView{File: f, MediaToken: tok, Expires: exp, URL: s.cfg.BaseURL + "/api/media?t=" + url.QueryEscape(tok)})
	}
	return out, nil
}

// Storage returns the caller's used bytes and the limit of its plan (also
// while a paid plan waits for its payment: reading needs no payment).
func (s *Service) Storage(ctx context.Context, who core.Principal) (used, limit int64, err error) {
	sid, err := s.studioID(ctx, who)
	if err != nil {
		return 0, 0, err
	}
	if snap, ok, err := s.cfg.Accounts.Subscription(ctx, who.ProfileID, core.LineClientGallery); err != nil {
		return 0, 0, err
	} else if ok {
		limit = snap.Plan.StorageLimitBytes
	}
	u, err := s.cfg.Uploads.Usage(ctx, uploads.Owner{ID: sid, Line: core.LineClientGallery})
	if err != nil {
		return 0, 0, err
	}
	return u.UsedBytes, limit, nil
}

// OpenMedia opens what a media token grants, or the range of it. A bad or
// expired token is KindForbidden.
func (s *Service) OpenMedia(ctx context.Context, token string, rng *ports.ByteRange) (io.ReadCloser, ports.BlobInfo, core.MediaClaims, error) {
	c, err := s.claims(token)
	if err != nil {
		return nil, ports.BlobInfo{}, core.MediaClaims{}, err
	}
	rc, info, err := s.cfg.Blobs.Get(ctx, c.Key, rng)
	if err != nil {
		return nil, ports.BlobInfo{}, core.MediaClaims{}, core.Errorf("media", err)
	}
	return rc, info, c, nil
}

// StatMedia describes what a media token grants without opening it (for
// conditional requests).
func (s *Service) StatMedia(ctx context.Context, token string) (ports.BlobInfo, core.MediaClaims, error) {
	c, err := s.claims(token)
	if err != nil {
		return ports.BlobInfo{}, core.MediaClaims{}, err
	}
	info, err := s.cfg.Blobs.Head(ctx, c.Key)
	return info, c, core.Errorf("media", err)
}

// claims verifies a media token and that it grants a Client Gallery file
// (a Drive token does not open gallery media, nor the reverse).
func (s *Service) claims(token string) (core.MediaClaims, error) {
	c, err := core.VerifyMediaToken(s.cfg.SigningKey, token, s.now())
	if err != nil {
		return core.MediaClaims{}, err
	}
	if !(uploads.Owner{ID: c.OwnerID, Line: core.LineClientGallery}).Owns(c.Key) {
		return core.MediaClaims{}, core.Forbidden("the media link is invalid or has expired")
	}
	return c, nil
}
