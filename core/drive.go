package core

import (
	"path"
	"strconv"
	"strings"
	"time"
)

// Drive limits and retention.
const (
	// MaxDriveDepth is how deep folders nest: a folder at the root has
	// depth 1, and no folder may sit deeper than this.
	MaxDriveDepth = 100
	// TrashRetention is how long an item stays in the recycle bin before
	// the worker deletes it for good.
	TrashRetention = 30 * 24 * time.Hour
)

// DriveItemKind tells a folder from a file.
type DriveItemKind string

// The kinds of drive items; the guide's ?type= values.
const (
	DriveFolderKind DriveItemKind = "folder"
	DriveFileKind   DriveItemKind = "file"
)

// ParseDriveItemKind validates a ?type= value.
func ParseDriveItemKind(field, s string) (DriveItemKind, error) {
	switch DriveItemKind(s) {
	case DriveFolderKind, DriveFileKind:
		return DriveItemKind(s), nil
	}
	return "", Invalid(field, "%s must be file or folder", field)
}

// DriveItem is what folders and files share: where the item sits and
// whether it is in the recycle bin.
//
// An item in the recycle bin keeps its ParentID (where a restore puts it
// back). TrashRoot is the id of the item whose deletion sent it there: its
// own id when it was deleted itself (it is listed in the trash), the id of
// the deleted ancestor folder when it went along with that folder's
// subtree (it comes back when that folder is restored).
type DriveItem struct {
	ID             string
	DriveID        string
	ParentID       string // "" at the root
	Name           string
	NameNormalized string // NormalizeDriveName(Name): siblings differ in it
	TrashedAt      time.Time
	TrashRoot      string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Trashed reports whether the item is in the recycle bin.
func (i DriveItem) Trashed() bool { return !i.TrashedAt.IsZero() }

// TrashListed reports whether the item is listed in the recycle bin: it
// was deleted itself, not along with a folder.
func (i DriveItem) TrashListed() bool { return i.Trashed() && i.TrashRoot == i.ID }

// PurgeAt is when the worker deletes a trashed item for good.
func (i DriveItem) PurgeAt() time.Time { return i.TrashedAt.Add(TrashRetention) }

// DriveFolder is a folder. AppID marks a partner app's folder: the
// top-level folder a linked app's uploads go to, read-only (with its
// whole tree) to browser sessions.
type DriveFolder struct {
	DriveItem
	AppID string
}

// DriveFile is a completed upload in a drive.
type DriveFile struct {
	DriveItem
	ContentType string
	Size        int64
	StorageKey  string
	ETag        string
}

// NormalizeDriveName is the form in which sibling names must differ:
// lower-cased, so "Photos" and "photos" clash.
func NormalizeDriveName(name string) string { return strings.ToLower(name) }

// CheckDriveName validates a folder or file name given by a caller: clean
// text (no control or bidi characters), at most MaxFileNameLen bytes, not
// "." or "..", without "/" or "\".
func CheckDriveName(field, name string) (string, error) {
	name, err := CleanText(field, name, MaxFileNameLen, true)
	if err != nil {
		return "", err
	}
	// CleanText lets line breaks and tabs through (they suit free text,
	// not names) and counts characters, not bytes.
	if strings.ContainsAny(name, "\r\n\t") {
		return "", Invalid(field, "%s must not contain control characters", field)
	}
	if len(name) > MaxFileNameLen {
		return "", Invalid(field, "%s must be at most %d bytes", field, MaxFileNameLen)
	}
	if name == "." || name == ".." || strings.ContainsAny(name, `/\`) {
		return "", Invalid(field, "%s may not be . or .. nor contain / or \\", field)
	}
	return name, nil
}

// NumberedName is the n-th alternative of a name that clashes: "Report
// (1)", and for files "photo (1).jpg" (the number goes before a short
// extension). The result is cut to MaxFileNameLen bytes.
func NumberedName(name string, n int, kind DriveItemKind) string {
	suffix := " (" + strconv.Itoa(n) + ")"
	stem, ext := name, ""
	if kind == DriveFileKind {
		if e := path.Ext(name); e != "" && len(e) <= 16 && e != name {
			stem, ext = strings.TrimSuffix(name, e), e
		}
	}
	for len(stem)+len(suffix)+len(ext) > MaxFileNameLen && stem != "" {
		stem = trimLastRune(stem)
	}
	return stem + suffix + ext
}

func trimLastRune(s string) string {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i]&0xC0 != 0x80 {
			return s[:i]
		}
	}
	return ""
}

// DriveCursor is a position in a folder listing: folders come first, then
// files, each by normalized name then id.
type DriveCursor struct {
	Kind           DriveItemKind
	NameNormalized string
	ID             string
}

// DriveQuery asks for one page of a folder's live items.
type DriveQuery struct {
	ParentID string // "" for the root
	After    *DriveCursor
	Limit    int
	// HideAppFolders leaves partner app folders out (the browser's view
	// without includeIntegrationAppFolders).
	HideAppFolders bool
}

// DriveListing is one page of a folder: folders then files. Next is nil
// on the last page.
type DriveListing struct {
	Folders []DriveFolder
	Files   []DriveFile
	Next    *DriveCursor
}

// TrashCursor is a position in the recycle bin: folders come first, then
// files, each newest deletion first (TrashedAt descending, then id
// descending).
type TrashCursor struct {
	TrashedAt time.Time
	Kind      DriveItemKind
	ID        string
}

// TrashQuery asks for one page of a drive's recycle bin.
type TrashQuery struct {
	After *TrashCursor
	Limit int
}

// TrashListing is one page of the recycle bin: the items deleted
// themselves (TrashListed), folders then files, newest deletion first.
// Next is nil on the last page.
type TrashListing struct {
	Folders []DriveFolder
	Files   []DriveFile
	Next    *TrashCursor
}

// DriveItemRef names one item of one drive.
type DriveItemRef struct {
	DriveID string
	Kind    DriveItemKind
	ID      string
}

// ObjectDeletion is an object that a permanent delete left for the worker
// to remove from object storage, once the delete has committed.
type ObjectDeletion struct {
	ID         string
	StorageKey string
	CreatedAt  time.Time
}
