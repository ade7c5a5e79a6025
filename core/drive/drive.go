// Package drive holds Drive's use cases: a folder tree with files, the
// recycle bin (soft delete, restore, permanent delete, a 30-day purge),
// uploads into a folder (presigned or streamed through the API), partner
// app folders, and the signed media links of files.
//
// Every change runs inside ports.DriveStore.Update, which serialises one
// drive's changes: the rules checked here on what the transaction reads
// (sibling names, no cycles, depth, the app folders' read-only rule) hold
// when it commits. The store keeps only the mechanics.
package drive

import (
	"context"
	"io"
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
	// MaxBatch caps the ids of one restore or permanent delete.
	MaxBatch = 1000
	// maxNumbered caps the " (n)" alternatives tried for a clashing name.
	maxNumbered = 1000
	purgePage   = 100
	deletePage  = 500
)

// Config wires a Service.
type Config struct {
	Store      ports.DriveStore
	Accounts   *accounts.Service
	Uploads    *uploads.Service
	Apps       ports.PartnerAppStore // partner app folders
	Links      ports.LinkStore
	Blobs      ports.BlobStore
	Clock      ports.Clock
	Random     io.Reader
	SigningKey []byte // media tokens; at least core.MinSigningKeyLen bytes
	BaseURL    string // media URLs are BaseURL + "/api/drive/media?t=…"
	MediaTTL   time.Duration
}

// Service runs the Drive use cases.
type Service struct{ cfg Config }

// New returns a Service.
func New(cfg Config) *Service {
	if cfg.MediaTTL <= 0 {
		cfg.MediaTTL = DefaultMediaTTL
	}
	return &Service{cfg: cfg}
}

func (s *Service) now() time.Time { return s.cfg.Clock.Now().UTC().Truncate(time.Microsecond) }

func (s *Service) newID(prefix string) (string, error) {
	id, err := core.NewID(prefix, s.now(), s.cfg.Random)
	if err != nil {
		return "", core.Internal(err)
	}
	return id, nil
}

// caller is who acts on which drive. A browser session may read partner
// app folders but not change them; API keys may.
type caller struct {
	who     core.Principal
	driveID string
}

func (c caller) session() bool { return c.who.Via == core.AuthSession }

// checkLine refuses another product line's key.
func checkLine(who core.Principal) error {
	if who.Via == core.AuthAPIKey && who.Line != core.LineDrive {
		return core.Forbidden("this route takes the Drive key (drv_…)")
	}
	return nil
}

// caller resolves the caller's drive (reads and tree changes need no
// eligible plan: a lapsed plan blocks uploads only).
func (s *Service) caller(ctx context.Context, who core.Principal) (caller, error) {
	if err := checkLine(who); err != nil {
		return caller{}, err
	}
	d, err := s.cfg.Accounts.Drive(ctx, who.ProfileID)
	if err != nil {
		return caller{}, err
	}
	return caller{who: who, driveID: d.ID}, nil
}

// owner resolves the caller's drive as a storage owner: the plan in force
// must be eligible, and its limit caps uploads.
func (s *Service) owner(ctx context.Context, who core.Principal) (caller, uploads.Owner, error) {
	if err := checkLine(who); err != nil {
		return caller{}, uploads.Owner{}, err
	}
	id, limit, err := s.cfg.Accounts.StorageOwner(ctx, who.ProfileID, core.LineDrive)
	if err != nil {
		return caller{}, uploads.Owner{}, err
	}
	return caller{who: who, driveID: id}, uploads.Owner{ID: id, Line: core.LineDrive, Limit: limit}, nil
}

// Storage returns the caller's used bytes (trashed files included until
// they are purged) and the limit of its plan.
func (s *Service) Storage(ctx context.Context, who core.Principal) (used, limit int64, err error) {
	c, err := s.caller(ctx, who)
	if err != nil {
		return 0, 0, err
	}
	if snap, ok, err := s.cfg.Accounts.Subscription(ctx, who.ProfileID, core.LineDrive); err != nil {
		return 0, 0, err
	} else if ok {
		limit = snap.Plan.StorageLimitBytes
	}
	u, err := s.cfg.Uploads.Usage(ctx, uploads.Owner{ID: c.driveID, Line: core.LineDrive})
	if err != nil {
		return 0, 0, err
	}
	return u.UsedBytes, limit, nil
}

// inAppTree reports whether a path (a folder and its ancestors) lies in
// a partner app's folder.
func inAppTree(path []core.DriveFolder) bool {
	for _, f := range path {
		if f.AppID != "" {
			return true
		}
	}
	return false
}

// errAppReadOnly is a browser session changing a partner app's tree.
func errAppReadOnly() error {
	return core.Forbidden("this folder belongs to a partner app: it is read-only here, the app changes it through the API").WithCode("app_folder_read_only")
}

// errInTrash is a change to, or into, an item in the recycle bin.
func errInTrash(what string) error {
	return core.Conflict("in_trash", "the "+what+" is in the recycle bin: restore it first")
}

// checkID validates an id from input; a malformed one names nothing.
func checkID(what, id string) error {
	if !core.ValidID(id) {
		return core.NotFound(what)
	}
	return nil
}

// livePath reads a live folder's path inside tx: KindNotFound when it is
// not the drive's, in_trash when it is in the recycle bin. The path of
// the root ("") is empty.
func livePath(ctx context.Context, tx ports.DriveTx, folderID string) ([]core.DriveFolder, error) {
	if folderID == "" {
		return nil, nil
	}
	if err := checkID("folder", folderID); err != nil {
		return nil, err
	}
	path, err := tx.Path(ctx, folderID)
	if err != nil {
		return nil, core.Errorf("folder", err)
	}
	if path[0].Trashed() {
		return nil, errInTrash("folder")
	}
	return path, nil
}

// freeName returns name, or its first " (n)" alternative that no live
// sibling of kind uses in parentID.
func freeName(ctx context.Context, tx ports.DriveTx, kind core.DriveItemKind, parentID, name string) (string, error) {
	candidate := name
	for n := 1; ; n++ {
		taken, err := tx.NameTaken(ctx, kind, parentID, core.NormalizeDriveName(candidate))
		if err != nil {
			return "", core.Errorf("name", err)
		}
		if !taken {
			return candidate, nil
		}
		if n > maxNumbered {
			return "", core.Conflict("name_taken", "too many items of this name in the folder")
		}
		candidate = core.NumberedName(name, n, kind)
	}
}

// requireFree fails with name_taken when a live sibling of kind uses name.
func requireFree(ctx context.Context, tx ports.DriveTx, kind core.DriveItemKind, parentID, name string) error {
	taken, err := tx.NameTaken(ctx, kind, parentID, core.NormalizeDriveName(name))
	if err != nil {
		return core.Errorf("name", err)
	}
	if taken {
		return core.Conflict("name_taken", "a "+string(kind)+" of this name is already in the folder")
	}
	return nil
}
