package ports

import (
	"context"
	"time"

	"github.com/gellhub/gellhub/core"
)

// DriveStore persists Drive trees: folders, files, the recycle bin, and
// the objects a permanent delete leaves for the worker to remove.
//
// Reads are scoped to a drive: another drive's id is KindNotFound. Every
// change runs inside Update, which serialises the changes of one drive, so
// that the rules the core checks on what it reads there (sibling names,
// cycles, depth) still hold when the change commits.
type DriveStore interface {
	// Update runs fn in one transaction holding the drive's write lock:
	// the changes of one drive run one at a time, those of different
	// drives in parallel. fn's error rolls everything back and is
	// returned as is; a failed commit is returned wrapped
	// (KindUnavailable when the database is down). fn must not keep tx.
	Update(ctx context.Context, driveID string, fn func(tx DriveTx) error) error

	// Folder returns one of the drive's folders, live or trashed;
	// KindNotFound.
	Folder(ctx context.Context, driveID, id string) (core.DriveFolder, error)

	// File returns one of the drive's files, live or trashed; KindNotFound.
	File(ctx context.Context, driveID, id string) (core.DriveFile, error)

	// FileByKey returns the drive's file stored under key, live or
	// trashed; KindNotFound.
	FileByKey(ctx context.Context, driveID, key string) (core.DriveFile, error)

	// Path returns a folder and its ancestors, nearest first (the folder
	// itself, its parent, …, the top-level folder); KindNotFound when the
	// folder is not the drive's.
	Path(ctx context.Context, driveID, folderID string) ([]core.DriveFolder, error)

	// List returns one page of a folder's live items: folders before
	// files, each by NameNormalized then ID (byte order), starting after
	// q.After, at most q.Limit items in all, and the cursor of the next
	// page (nil when nothing follows). A page's cost does not grow with
	// the folder's size. q.ParentID "" is the root; a parent that is not
	// the drive's lists nothing (the caller checks it).
	List(ctx context.Context, driveID string, q core.DriveQuery) (core.DriveListing, error)

	// Trash returns one page of the drive's recycle bin: the trashed items
	// with TrashRoot == ID, folders before files, each by TrashedAt then
	// ID, both descending.
	Trash(ctx context.Context, driveID string, q core.TrashQuery) (core.TrashListing, error)

	// TrashExpired lists up to limit listed trash items (TrashRoot == ID)
	// of any drive trashed at or before before, oldest first.
	TrashExpired(ctx context.Context, before time.Time, limit int) ([]core.DriveItemRef, error)

	// PendingObjectDeletions lists up to limit objects left by permanent
	// deletes, oldest first.
	PendingObjectDeletions(ctx context.Context, limit int) ([]core.ObjectDeletion, error)

	// ObjectsDeleted forgets pending deletions once their objects are gone.
	// Unknown ids are ignored.
	ObjectsDeleted(ctx context.Context, ids []string) error
}

// DriveTx is one drive's transaction inside DriveStore.Update. Its reads
// see its own writes. Every method is scoped to the transaction's drive:
// ids of other drives are KindNotFound.
type DriveTx interface {
	// Folder, File, FileByKey and Path read as DriveStore's do.
	Folder(ctx context.Context, id string) (core.DriveFolder, error)
	File(ctx context.Context, id string) (core.DriveFile, error)
	FileByKey(ctx context.Context, key string) (core.DriveFile, error)
	Path(ctx context.Context, folderID string) ([]core.DriveFolder, error)

	// AppFolder returns the live folder whose AppID is appID;
	// KindNotFound when there is none.
	AppFolder(ctx context.Context, appID string) (core.DriveFolder, error)

	// NameTaken reports whether a live item of kind in parentID ("" for
	// the root) has NameNormalized nameNormalized.
	NameTaken(ctx context.Context, kind core.DriveItemKind, parentID, nameNormalized string) (bool, error)

	// Height is the number of folder levels in a folder's subtree,
	// counting the folder itself (1 for a folder without subfolders),
	// whatever their state.
	Height(ctx context.Context, folderID string) (int, error)

	// CreateFolder stores a new folder. KindConflict, code "name_taken",
	// when a live sibling folder has its normalized name (the store's own
	// guard behind the core's check).
	CreateFolder(ctx context.Context, f core.DriveFolder) error

	// CreateFile stores a new file and settles its upload: the
	// reservation (owner f.DriveID, id reservationID) is deleted, its
	// bytes leave the reserved count and f.Size joins the used count.
	// KindNotFound, detail "reservation", when the reservation is gone;
	// KindConflict, code "name_taken", as CreateFolder; KindConflict, code
	// "file_exists", when a file has f.StorageKey.
	CreateFile(ctx context.Context, f core.DriveFile, reservationID string) error

	// UpdateFolder writes a folder's ParentID, Name, NameNormalized,
	// AppID, TrashedAt, TrashRoot and UpdatedAt. KindNotFound; KindConflict
	// "name_taken".
	UpdateFolder(ctx context.Context, f core.DriveFolder) error

	// UpdateFile writes a file's ParentID, Name, NameNormalized,
	// TrashedAt, TrashRoot and UpdatedAt. KindNotFound; KindConflict
	// "name_taken".
	UpdateFile(ctx context.Context, f core.DriveFile) error

	// TrashSubtree sends the live folders and files below folderID (not
	// the folder itself) to the recycle bin with it: TrashedAt at,
	// TrashRoot folderID. Items already in the bin keep their own state.
	TrashSubtree(ctx context.Context, folderID string, at time.Time) error

	// RestoreTrashRoot takes every item whose TrashRoot is rootID, except
	// rootID itself, out of the recycle bin (TrashedAt and TrashRoot
	// cleared) where it is.
	RestoreTrashRoot(ctx context.Context, rootID string, at time.Time) error

	// DeleteFile deletes a file for good: its row goes, its size leaves
	// the drive's used bytes, and its object is queued for deletion
	// (PendingObjectDeletions). KindNotFound.
	DeleteFile(ctx context.Context, id string) error

	// DeleteFolder deletes a folder and everything below it for good,
	// whatever their state, as DeleteFile does for each file. KindNotFound.
	DeleteFolder(ctx context.Context, id string) error
}
