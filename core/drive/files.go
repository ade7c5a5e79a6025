package drive

import (
	"context"
	"encoding/base64"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/uploads"
	"github.com/gellhub/gellhub/ports"
)

// FileView is a file with its signed, expiring media link (none while the
// file is in the recycle bin).
type FileView struct {
	File       core.DriveFile
	URL        string
	MediaToken string
	Expires    time.Time
}

func (s *Service) view(f core.DriveFile) (FileView, error) {
	v := FileView{File: f}
	if f.Trashed() {
		return v, nil
	}
	v.Expires = s.now().Add(s.cfg.MediaTTL)
	tok, err := core.SignMediaToken(s.cfg.SigningKey, core.MediaClaims{
		Key: f.StorageKey, OwnerID: f.DriveID, Name: f.Name, ContentType: f.ContentType, Expires: v.Expires,
	})
	if err != nil {
		return FileView{}, err
	}
	v.MediaToken, v.URL = tok, s.cfg.BaseURL+"/api/drive/media?t="+url.QueryEscape(tok)
	return v, nil
}

// Listing is one page of a folder with media links for its files.
type Listing struct {
	Folders []core.DriveFolder
	Files   []FileView
	Next    string // the next page's cursor; "" on the last page
	// InAppTree says the folder listed lies in a partner app's folder.
	InAppTree bool
}

// ListQuery asks for one page of a folder.
type ListQuery struct {
	ParentID string // "" for the root
	Cursor   string // from the previous page's Next
	Limit    int    // 1–MaxPage; 0 is DefaultPage
	// IncludeAppFolders shows partner app folders to a browser session
	// (API keys always see them).
	IncludeAppFolders bool
}

// List returns one page of a live folder: folders first, then files, by
// name. Pages are stable: an item is never listed twice nor skipped while
// the folder does not change.
func (s *Service) List(ctx context.Context, who core.Principal, q ListQuery) (Listing, error) {
	c, err := s.caller(ctx, who)
	if err != nil {
		return Listing{}, err
	}
	dq := core.DriveQuery{ParentID: q.ParentID, HideAppFolders: c.session() && !q.IncludeAppFolders}
	if dq.Limit, err = pageLimit(q.Limit); err != nil {
		return Listing{}, err
	}
	if dq.After, err = decodeCursor(q.Cursor); err != nil {
		return Listing{}, err
	}
	inApp := false
	if q.ParentID != "" {
		if err := checkID("folder", q.ParentID); err != nil {
			return Listing{}, err
		}
		path, err := s.cfg.Store.Path(ctx, c.driveID, q.ParentID)
		if err != nil {
			return Listing{}, core.Errorf("folder", err)
		}
		if path[0].Trashed() {
			return Listing{}, errInTrash("folder")
		}
		inApp = inAppTree(path)
	}
	l, err := s.cfg.Store.List(ctx, c.driveID, dq)
	if err != nil {
		return Listing{}, core.Errorf("list", err)
	}
	out := Listing{Folders: l.Folders, Files: make([]FileView, 0, len(l.Files)), Next: encodeCursor(l.Next), InAppTree: inApp}
	for _, f := range l.Files {
		v, err := s.view(f)
		if err != nil {
			return Listing{}, err
		}
		out.Files = append(out.Files, v)
	}
	return out, nil
}

func pageLimit(n int) (int, error) {
	if n == 0 {
		return DefaultPage, nil
	}
	if n < 1 || n > MaxPage {
		return 0, core.Invalid("limit", "limit must be between 1 and %d", MaxPage)
	}
	return n, nil
}

// Cursors are opaque to clients: base64url of "<kind>\x00<name>\x00<id>".
func encodeCursor(c *core.DriveCursor) string {
	if c == nil {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(string(c.Kind) + "\x00" + c.NameNormalized + "\x00" + c.ID))
}

func decodeCursor(s string) (*core.DriveCursor, error) {
	if s == "" {
		return nil, nil
	}
	bad := core.Invalid("cursor", "cursor is not valid")
	if len(s) > 2048 {
		return nil, bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, bad
	}
	parts := strings.Split(string(raw), "\x00")
	if len(parts) != 3 || !core.ValidID(parts[2]) {
		return nil, bad
	}
	kind, err := core.ParseDriveItemKind("cursor", parts[0])
	if err != nil {
		return nil, bad
	}
	return &core.DriveCursor{Kind: kind, NameNormalized: parts[1], ID: parts[2]}, nil
}

// UploadTarget is where an uploaded file goes: a folder ("" for the root)
// or, with a partner app's client id, that app's folder (or a folder
// inside it).
type UploadTarget struct {
	FolderID            string
	IntegrationClientID string
}

// app resolves a partner app's client id: the app must be active and
// linked to the caller (a connect exchange made the link). Browser
// sessions do not write to app folders.
func (s *Service) app(ctx context.Context, c caller, clientID string) (core.PartnerApp, error) {
	denied := core.Forbidden("this integration client id is not linked to this account").WithDetail("integrationClientId")
	if len(clientID) > 128 || !core.ValidID(clientID) {
		return core.PartnerApp{}, denied
	}
	if c.session() {
		return core.PartnerApp{}, errAppReadOnly()
	}
	a, err := s.cfg.Apps.AppByClientID(ctx, clientID)
	if core.IsKind(err, core.KindNotFound) {
		return core.PartnerApp{}, denied
	} else if err != nil {
		return core.PartnerApp{}, core.Errorf("app", err)
	}
	if a.Status != core.AppActive || a.Line != core.LineDrive {
		return core.PartnerApp{}, denied // suspended, or an app of another product line
	}
	l, err := s.cfg.Links.LinkFor(ctx, c.who.ProfileID, a.ID)
	if core.IsKind(err, core.KindNotFound) {
		return core.PartnerApp{}, denied
	} else if err != nil {
		return core.PartnerApp{}, core.Errorf("link", err)
	}
	if !l.Active() {
		return core.PartnerApp{}, denied
	}
	return a, nil
}

// place resolves an upload's folder inside tx, creating the app's folder
// on its first upload.
func (s *Service) place(ctx context.Context, tx ports.DriveTx, c caller, app *core.PartnerApp, folderID string) (string, error) {
	path, err := livePath(ctx, tx, folderID)
	if err != nil {
		if core.IsKind(err, core.KindNotFound) {
			return "", core.NotFound("folder").WithDetail("folderId")
		}
		return "", err
	}
	if app == nil {
		if c.session() && inAppTree(path) {
			return "", errAppReadOnly()
		}
		return folderID, nil
	}
	root, err := tx.AppFolder(ctx, app.ID)
	switch {
	case core.IsKind(err, core.KindNotFound):
		if folderID != "" {
			return "", core.Invalid("folderId", "with an integration client id, folderId must be inside the app's folder")
		}
		return s.createAppFolder(ctx, tx, c, *app)
	case err != nil:
		return "", core.Errorf("app folder", err)
	}
	if folderID == "" {
		return root.ID, nil
	}
	for _, f := range path {
		if f.ID == root.ID {
			return folderID, nil
		}
	}
	return "", core.Invalid("folderId", "with an integration client id, folderId must be inside the app's folder")
}

func (s *Service) createAppFolder(ctx context.Context, tx ports.DriveTx, c caller, a core.PartnerApp) (string, error) {
	name, err := core.CheckDriveName("name", a.Name)
	if err != nil {
		name = "App " + a.ID
	}
	if name, err = freeName(ctx, tx, core.DriveFolderKind, "", name); err != nil {
		return "", err
	}
	id, err := s.newID("fld")
	if err != nil {
		return "", err
	}
	now := s.now()
	f := core.DriveFolder{AppID: a.ID, DriveItem: core.DriveItem{
		ID: id, DriveID: c.driveID, Name: name, NameNormalized: core.NormalizeDriveName(name), CreatedAt: now, UpdatedAt: now,
	}}
	return id, core.Errorf("create app folder", tx.CreateFolder(ctx, f))
}

// target checks an upload target before any byte moves (the app link,
// the folder), creating the app's folder on first use.
func (s *Service) target(ctx context.Context, c caller, t UploadTarget) (*core.PartnerApp, error) {
	var app *core.PartnerApp
	if t.IntegrationClientID != "" {
		a, err := s.app(ctx, c, t.IntegrationClientID)
		if err != nil {
			return nil, err
		}
		app = &a
	}
	if app == nil && t.FolderID == "" {
		return nil, nil // the root: nothing to check
	}
	err := s.cfg.Store.Update(ctx, c.driveID, func(tx ports.DriveTx) error {
		_, err := s.place(ctx, tx, c, app, t.FolderID)
		return err
	})
	return app, err
}

// Presign validates the upload and its folder and returns a PUT URL.
func (s *Service) Presign(ctx context.Context, who core.Principal, t UploadTarget, f uploads.FileInput) (uploads.Presigned, error) {
	c, o, err := s.owner(ctx, who)
	if err != nil {
		return uploads.Presigned{}, err
	}
	if _, err := s.cfg.Uploads.CheckFile(f); err != nil {
		return uploads.Presigned{}, err
	}
	if _, err := s.target(ctx, c, t); err != nil {
		return uploads.Presigned{}, err
	}
	return s.cfg.Uploads.Presign(ctx, o, f)
}

// Complete records a presigned upload once its object is in place. A name
// already used in the folder gets " (1)", " (2)"… Completing the same
// storageKey again returns the same file.
func (s *Service) Complete(ctx context.Context, who core.Principal, t UploadTarget, key string, f uploads.FileInput) (FileView, error) {
	c, o, err := s.owner(ctx, who)
	if err != nil {
		return FileView{}, err
	}
	if key == "" {
		return FileView{}, core.Invalid("storageKey", "storageKey is required")
	}
	if len(key) > 2048 || !o.Owns(key) {
		return FileView{}, core.Forbidden("this storageKey was not presigned for this account")
	}
	if done, err := s.cfg.Store.FileByKey(ctx, c.driveID, key); err == nil {
		return s.view(done) // idempotent: already completed
	} else if !core.IsKind(err, core.KindNotFound) {
		return FileView{}, core.Errorf("complete", err)
	}
	app, err := s.target(ctx, c, t)
	if err != nil {
		return FileView{}, err
	}
	name, err := s.cfg.Uploads.CheckFile(f)
	if err != nil {
		return FileView{}, err
	}
	r, info, err := s.cfg.Uploads.Check(ctx, o, key, f.SizeBytes)
	if err != nil {
		// A concurrent complete of the same key may have recorded it.
		if done, ferr := s.cfg.Store.FileByKey(ctx, c.driveID, key); ferr == nil {
			return s.view(done)
		}
		return FileView{}, err
	}
	ct := info.ContentType // what the storage holds (the presigned type)
	if ct == "" {
		ct = f.ContentType
	}
	file, err := s.record(ctx, c, app, t.FolderID, name, ct, key, info.Size, info.ETag, r.ID)
	if core.IsKind(err, core.KindConflict) {
		if done, ferr := s.cfg.Store.FileByKey(ctx, c.driveID, key); ferr == nil {
			return s.view(done)
		}
	}
	if err != nil {
		return FileView{}, err
	}
	return s.view(file)
}

// record stores a completed upload in its folder and settles its
// reservation, in one transaction.
func (s *Service) record(ctx context.Context, c caller, app *core.PartnerApp, folderID, name, contentType, key string, size int64, etag, reservationID string) (core.DriveFile, error) {
	id, err := s.newID("file")
	if err != nil {
		return core.DriveFile{}, err
	}
	var file core.DriveFile
	err = s.cfg.Store.Update(ctx, c.driveID, func(tx ports.DriveTx) error {
		parent, err := s.place(ctx, tx, c, app, folderID)
		if err != nil {
			return err
		}
		if name, err = freeName(ctx, tx, core.DriveFileKind, parent, name); err != nil {
			return err
		}
		now := s.now()
		file = core.DriveFile{
			DriveItem: core.DriveItem{
				ID: id, DriveID: c.driveID, ParentID: parent, Name: name,
				NameNormalized: core.NormalizeDriveName(name), CreatedAt: now, UpdatedAt: now,
			},
			ContentType: contentType, Size: size, StorageKey: key, ETag: etag,
		}
		return core.Errorf("create file", tx.CreateFile(ctx, file, reservationID))
	})
	return file, err
}

// UploadInput is a proxy upload: the file streams from Body.
type UploadInput struct {
	Target      UploadTarget
	FileName    string
	ContentType string
	Body        io.Reader
	MaxBytes    int64 // the request's length: an upper bound of the file's
}

// Upload streams a file into a folder. The quota is enforced before and
// while streaming; on any failure nothing is stored or counted.
func (s *Service) Upload(ctx context.Context, who core.Principal, in UploadInput) (FileView, error) {
	c, o, err := s.owner(ctx, who)
	if err != nil {
		return FileView{}, err
	}
	app, err := s.target(ctx, c, in.Target)
	if err != nil {
		return FileView{}, err
	}
	st, err := s.cfg.Uploads.Stream(ctx, o, in.FileName, in.ContentType, in.Body, in.MaxBytes)
	if err != nil {
		return FileView{}, err
	}
	f, err := s.record(ctx, c, app, in.Target.FolderID, st.Name, st.Info.ContentType, st.Info.Key, st.Info.Size, st.Info.ETag, st.Reservation.ID)
	if err != nil {
		s.cfg.Uploads.Abandon(ctx, st)
		return FileView{}, err
	}
	return s.view(f)
}

// OpenMedia opens what a media token grants, or the range of it. A bad or
// expired token is KindForbidden; a file since trashed or deleted is
// KindNotFound.
func (s *Service) OpenMedia(ctx context.Context, token string, rng *ports.ByteRange) (io.ReadCloser, ports.BlobInfo, core.MediaClaims, error) {
	c, err := s.claims(ctx, token)
	if err != nil {
		return nil, ports.BlobInfo{}, core.MediaClaims{}, err
	}
	rc, info, err := s.cfg.Blobs.Get(ctx, c.Key, rng)
	if err != nil {
		return nil, ports.BlobInfo{}, core.MediaClaims{}, core.Errorf("media", err)
	}
	return rc, info, c, nil
}

// StatMedia describes what a media token grants without opening it.
func (s *Service) StatMedia(ctx context.Context, token string) (ports.BlobInfo, core.MediaClaims, error) {
	c, err := s.claims(ctx, token)
	if err != nil {
		return ports.BlobInfo{}, core.MediaClaims{}, err
	}
	info, err := s.cfg.Blobs.Head(ctx, c.Key)
	return info, c, core.Errorf("media", err)
}

// claims verifies a media token, that it grants a Drive file (a gallery
// token does not open Drive media, nor the reverse), and that the file is
// still live.
func (s *Service) claims(ctx context.Context, token string) (core.MediaClaims, error) {
	c, err := core.VerifyMediaToken(s.cfg.SigningKey, token, s.now())
	if err != nil {
		return core.MediaClaims{}, err
	}
	if !(uploads.Owner{ID: c.OwnerID, Line: core.LineDrive}).Owns(c.Key) {
		return core.MediaClaims{}, core.Forbidden("the media link is invalid or has expired")
	}
	f, err := s.cfg.Store.FileByKey(ctx, c.OwnerID, c.Key)
	if err != nil {
		return core.MediaClaims{}, core.Errorf("media", err)
	}
	if f.Trashed() {
		return core.MediaClaims{}, core.NotFound("file")
	}
	return c, nil
}
