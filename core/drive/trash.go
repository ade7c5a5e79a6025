package drive

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// TrashPage is one page of the recycle bin: folders then files, newest
// deletion first.
type TrashPage struct {
	Folders []core.DriveFolder
	Files   []core.DriveFile
	Next    string // the next page's cursor; "" on the last page
}

// TrashList returns one page of the caller's recycle bin: limit 1–MaxPage
// (0 is DefaultPage), cursor from the previous page's Next.
func (s *Service) TrashList(ctx context.Context, who core.Principal, cursor string, limit int) (TrashPage, error) {
	c, err := s.caller(ctx, who)
	if err != nil {
		return TrashPage{}, err
	}
	q := core.TrashQuery{}
	if q.Limit, err = pageLimit(limit); err != nil {
		return TrashPage{}, err
	}
	if q.After, err = decodeTrashCursor(cursor); err != nil {
		return TrashPage{}, err
	}
	l, err := s.cfg.Store.Trash(ctx, c.driveID, q)
	if err != nil {
		return TrashPage{}, core.Errorf("trash", err)
	}
	return TrashPage{Folders: l.Folders, Files: l.Files, Next: encodeTrashCursor(l.Next)}, nil
}

// Trash cursors are base64url of "<kind>\x00<trashedAt RFC 3339>\x00<id>".
func encodeTrashCursor(c *core.TrashCursor) string {
	if c == nil {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(string(c.Kind) + "\x00" + c.TrashedAt.UTC().Format(time.RFC3339Nano) + "\x00" + c.ID))
}

func decodeTrashCursor(s string) (*core.TrashCursor, error) {
	if s == "" {
		return nil, nil
	}
	bad := core.Invalid("cursor", "cursor is not valid")
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(s) > 256 {
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
	at, err := time.Parse(time.RFC3339Nano, parts[1])
	if err != nil {
		return nil, bad
	}
	return &core.TrashCursor{Kind: kind, TrashedAt: at.UTC(), ID: parts[2]}, nil
}

// Selection names items of the recycle bin.
type Selection struct {
	FileIDs   []string
	FolderIDs []string
}

// check validates a selection: at least one id, at most MaxBatch, each
// well-formed; duplicates are dropped.
func (sel Selection) check() (Selection, error) {
	if len(sel.FileIDs)+len(sel.FolderIDs) == 0 {
		return Selection{}, core.Invalid("fileIds", "name at least one item in fileIds or folderIds")
	}
	if len(sel.FileIDs)+len(sel.FolderIDs) > MaxBatch {
		return Selection{}, core.Invalid("fileIds", "at most %d items at a time", MaxBatch)
	}
	for _, ids := range [][]string{sel.FileIDs, sel.FolderIDs} {
		for _, id := range ids {
			if !core.ValidID(id) {
				return Selection{}, core.NotFound("item")
			}
		}
	}
	out := Selection{FileIDs: slices.Clone(sel.FileIDs), FolderIDs: slices.Clone(sel.FolderIDs)}
	slices.Sort(out.FileIDs)
	slices.Sort(out.FolderIDs)
	out.FileIDs, out.FolderIDs = slices.Compact(out.FileIDs), slices.Compact(out.FolderIDs)
	return out, nil
}

// trashed is an item of a selection, read inside the transaction.
type trashed struct {
	kind   core.DriveItemKind
	item   core.DriveItem
	path   []core.DriveFolder
	folder *core.DriveFolder
	file   *core.DriveFile
}

// load reads every selected item; each must be in the recycle bin
// (KindNotFound otherwise, like an unknown id), and a browser session may
// not touch a partner app's items. Folders come first, shallowest first,
// then files.
func load(ctx context.Context, c caller, tx ports.DriveTx, sel Selection, listedOnly bool) ([]trashed, error) {
	var out []trashed
	for _, k := range []struct {
		kind core.DriveItemKind
		ids  []string
	}{{core.DriveFolderKind, sel.FolderIDs}, {core.DriveFileKind, sel.FileIDs}} {
		for _, id := range k.ids {
			item, path, folder, file, err := itemPath(ctx, tx, k.kind, id)
			if err != nil {
				return nil, err
			}
			if !item.Trashed() || (listedOnly && !item.TrashListed()) {
				return nil, core.NotFound(string(k.kind) + " in the recycle bin")
			}
			if c.session() && inAppTree(path) {
				return nil, errAppReadOnly()
			}
			out = append(out, trashed{k.kind, item, path, folder, file})
		}
	}
	slices.SortStableFunc(out, func(a, b trashed) int {
		if a.kind != b.kind {
			if a.kind == core.DriveFolderKind {
				return -1
			}
			return 1
		}
		return len(a.path) - len(b.path)
	})
	return out, nil
}

// Restore takes items out of the recycle bin: each goes back to its
// parent, or to the root when that parent is itself in the recycle bin; a
// name clash there adds " (1)", " (2)"… A folder brings back what went
// with it. Only listed items can be restored (KindNotFound otherwise), and
// nothing changes unless all can.
func (s *Service) Restore(ctx context.Context, who core.Principal, sel Selection) error {
	return s.withSelection(ctx, who, sel, true, func(tx ports.DriveTx, items []trashed) error {
		now := s.now()
		for _, t := range items {
			if err := s.restore(ctx, tx, t, now); err != nil {
				return err
			}
		}
		return nil
	})
}

// withSelection checks a selection, then runs fn in one transaction of
// the caller's drive with the selected items loaded (see load).
func (s *Service) withSelection(ctx context.Context, who core.Principal, sel Selection, listedOnly bool, fn func(tx ports.DriveTx, items []trashed) error) error {
	c, err := s.caller(ctx, who)
	if err != nil {
		return err
	}
	if sel, err = sel.check(); err != nil {
		return err
	}
	return s.cfg.Store.Update(ctx, c.driveID, func(tx ports.DriveTx) error {
		items, err := load(ctx, c, tx, sel, listedOnly)
		if err != nil {
			return err
		}
		return fn(tx, items)
	})
}

func (s *Service) restore(ctx context.Context, tx ports.DriveTx, t trashed, now time.Time) error {
	item := t.item
	if item.ParentID != "" {
		p, err := tx.Folder(ctx, item.ParentID)
		if err != nil {
			return core.Errorf("parent", err)
		}
		if p.Trashed() {
			item.ParentID = ""
		}
	}
	name, err := freeName(ctx, tx, t.kind, item.ParentID, item.Name)
	if err != nil {
		return err
	}
	item.Name, item.NameNormalized = name, core.NormalizeDriveName(name)
	item.TrashedAt, item.TrashRoot, item.UpdatedAt = time.Time{}, "", now
	if t.file != nil {
		t.file.DriveItem = item
		return core.Errorf("restore file", tx.UpdateFile(ctx, *t.file))
	}
	t.folder.DriveItem = item
	if t.folder.AppID != "" {
		// One live folder per app: when the app made a new one meanwhile,
		// the restored folder becomes an ordinary one.
		if _, err := tx.AppFolder(ctx, t.folder.AppID); err == nil {
			t.folder.AppID = ""
		} else if !core.IsKind(err, core.KindNotFound) {
			return core.Errorf("app folder", err)
		}
	}
	if err := tx.UpdateFolder(ctx, *t.folder); err != nil {
		return core.Errorf("restore folder", err)
	}
	return core.Errorf("restore subtree", tx.RestoreTrashRoot(ctx, item.ID, now))
}

// Delete deletes items of the recycle bin for good: their bytes leave the
// quota at once and their objects are removed by the worker after the
// commit (DeleteObjects). A folder takes everything below it. Items not in
// the recycle bin are KindNotFound, and nothing changes unless all can go.
func (s *Service) Delete(ctx context.Context, who core.Principal, sel Selection) error {
	return s.withSelection(ctx, who, sel, false, func(tx ports.DriveTx, items []trashed) error {
		return deleteItems(ctx, tx, items)
	})
}

// deleteItems deletes loaded items, shallowest folders first; an item
// already gone with a folder deleted before it is skipped.
func deleteItems(ctx context.Context, tx ports.DriveTx, items []trashed) error {
	for _, t := range items {
		var err error
		if t.kind == core.DriveFolderKind {
			err = tx.DeleteFolder(ctx, t.item.ID)
		} else {
			err = tx.DeleteFile(ctx, t.item.ID)
		}
		if err != nil && !core.IsKind(err, core.KindNotFound) {
			return core.Errorf("delete", err)
		}
	}
	return nil
}

// PurgeTrash deletes for good what has been in the recycle bin for
// core.TrashRetention, as Delete does, and returns how many listed items
// went. A worker runs it periodically.
func (s *Service) PurgeTrash(ctx context.Context) (int, error) {
	cutoff := s.now().Add(-core.TrashRetention)
	n := 0
	var failed error
	for {
		refs, err := s.cfg.Store.TrashExpired(ctx, cutoff, purgePage)
		if err != nil {
			return n, errors.Join(failed, core.Errorf("expired trash", err))
		}
		progress := 0
		for _, r := range refs {
			deleted := false
			err := s.cfg.Store.Update(ctx, r.DriveID, func(tx ports.DriveTx) error {
				item, path, folder, file, err := itemPath(ctx, tx, r.Kind, r.ID)
				if err != nil {
					return err
				}
				if !item.TrashListed() || item.TrashedAt.After(cutoff) {
					return nil // restored, or trashed again, since the listing
				}
				deleted = true
				return deleteItems(ctx, tx, []trashed{{r.Kind, item, path, folder, file}})
			})
			switch {
			case core.IsKind(err, core.KindNotFound):
				progress++ // gone meanwhile
			case core.IsKind(err, core.KindUnavailable):
				return n, err // the store is down: the next run tries again
			case err != nil:
				// One item that fails (a corrupt row, a subtree too large for
				// a statement timeout) must not hold back every other
				// drive's purge: note it and go on; the next run retries.
				failed = errors.Join(failed, fmt.Errorf("purge %s %s of drive %s: %w", r.Kind, r.ID, r.DriveID, err))
			case deleted:
				n++
				progress++
			}
		}
		// A page that made no progress would come back the same: stop
		// rather than spin (the next run tries again).
		if len(refs) < purgePage || progress == 0 {
			return n, failed
		}
	}
}

// DeleteObjects removes from object storage the objects of files deleted
// for good, and returns how many went. An object already gone counts as
// removed; one that fails stays queued for the next run.
func (s *Service) DeleteObjects(ctx context.Context) (int, error) {
	n := 0
	for {
		pending, err := s.cfg.Store.PendingObjectDeletions(ctx, deletePage)
		if err != nil {
			return n, core.Errorf("pending deletions", err)
		}
		var done []string
		var failed error
		for _, d := range pending {
			if err := s.cfg.Blobs.Delete(ctx, d.StorageKey); err != nil && !core.IsKind(err, core.KindNotFound) {
				failed = core.Errorf("delete object", err)
				continue
			}
			done = append(done, d.ID)
		}
		if len(done) > 0 {
			if err := s.cfg.Store.ObjectsDeleted(ctx, done); err != nil {
				return n, core.Errorf("objects deleted", err)
			}
			n += len(done)
		}
		if failed != nil || len(pending) < deletePage {
			return n, failed
		}
	}
}
