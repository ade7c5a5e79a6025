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

// driveState is the part of Store that holds Drive trees and the objects
// that permanent deletes leave for the worker. It is guarded by Store.mu.
type driveState struct {
	trees   map[string]*driveTree // drive id → tree, made by the drive's first Update
	pending []core.ObjectDeletion // in the order they were queued
	seq     int64                 // numbers pending deletion ids
}

func newDriveState() driveState {
	return driveState{trees: map[string]*driveTree{}}
}

// driveTree is one drive's folders and files, with the indexes that keep
// a folder listing from scanning the whole drive.
type driveTree struct {
	folders     map[string]core.DriveFolder
	files       map[string]core.DriveFile
	folderKids  map[string]map[string]struct{} // parent id ("" for the root) → folder ids
	fileKids    map[string]map[string]struct{} // parent id ("" for the root) → file ids
	fileByKey   map[string]string              // storage key → file id
	appFolderOf map[string]map[string]struct{} // app id → folder ids, any state
}

func newDriveTree() *driveTree {
	return &driveTree{
		folders:     map[string]core.DriveFolder{},
		files:       map[string]core.DriveFile{},
		folderKids:  map[string]map[string]struct{}{},
		fileKids:    map[string]map[string]struct{}{},
		fileByKey:   map[string]string{},
		appFolderOf: map[string]map[string]struct{}{},
	}
}

// emptyDriveTree stands for a drive that has never been updated: its nil
// maps read as empty.
var emptyDriveTree = &driveTree{}

// driveTree returns the drive's tree, empty when it has none. s.mu is held.
func (s *Store) driveTree(driveID string) *driveTree {
	if t, ok := s.drive.trees[driveID]; ok {
		return t
	}
	return emptyDriveTree
}

// driveExists reports whether an account has the drive. s.mu is held.
func (s *Store) driveExists(driveID string) bool {
	for _, d := range s.drives {
		if d.ID == driveID {
			return true
		}
	}
	return false
}

func setAdd(m map[string]map[string]struct{}, k, v string) {
	if m[k] == nil {
		m[k] = map[string]struct{}{}
	}
	m[k][v] = struct{}{}
}

func setDel(m map[string]map[string]struct{}, k, v string) {
	delete(m[k], v)
	if len(m[k]) == 0 {
		delete(m, k)
	}
}

// setFolder stores f, keeping the indexes right.
func (t *driveTree) setFolder(f core.DriveFolder) {
	t.removeFolder(f.ID)
	t.folders[f.ID] = f
	setAdd(t.folderKids, f.ParentID, f.ID)
	if f.AppID != "" {
		setAdd(t.appFolderOf, f.AppID, f.ID)
	}
}

func (t *driveTree) removeFolder(id string) {
	old, ok := t.folders[id]
	if !ok {
		return
	}
	delete(t.folders, id)
	setDel(t.folderKids, old.ParentID, id)
	if old.AppID != "" {
		setDel(t.appFolderOf, old.AppID, id)
	}
}

// setFile stores f, keeping the indexes right.
func (t *driveTree) setFile(f core.DriveFile) {
	t.removeFile(f.ID)
	t.files[f.ID] = f
	setAdd(t.fileKids, f.ParentID, f.ID)
	t.fileByKey[f.StorageKey] = f.ID
}

func (t *driveTree) removeFile(id string) {
	old, ok := t.files[id]
	if !ok {
		return
	}
	delete(t.files, id)
	setDel(t.fileKids, old.ParentID, id)
	delete(t.fileByKey, old.StorageKey)
}

func (t *driveTree) folder(id string) (core.DriveFolder, error) {
	f, ok := t.folders[id]
	if !ok {
		return core.DriveFolder{}, core.NotFound("folder")
	}
	return f, nil
}

func (t *driveTree) file(id string) (core.DriveFile, error) {
	f, ok := t.files[id]
	if !ok {
		return core.DriveFile{}, core.NotFound("file")
	}
	return f, nil
}

func (t *driveTree) fileWithKey(key string) (core.DriveFile, error) {
	id, ok := t.fileByKey[key]
	if !ok {
		return core.DriveFile{}, core.NotFound("file")
	}
	return t.files[id], nil
}

// path returns a folder and its ancestors, nearest first.
func (t *driveTree) path(id string) ([]core.DriveFolder, error) {
	f, err := t.folder(id)
	if err != nil {
		return nil, err
	}
	out := []core.DriveFolder{f}
	for f.ParentID != "" && len(out) <= len(t.folders) {
		p, ok := t.folders[f.ParentID]
		if !ok {
			break
		}
		out = append(out, p)
		f = p
	}
	return out, nil
}

// subtree returns the ids of a folder and of every folder below it, in
// any state, the folder first.
func (t *driveTree) subtree(id string) []string {
	out := []string{id}
	for i := 0; i < len(out) && i <= len(t.folders); i++ {
		for kid := range t.folderKids[out[i]] {
			out = append(out, kid)
		}
	}
	return out
}

// height counts the folder levels of a folder's subtree.
func (t *driveTree) height(id string) (int, error) {
	if _, err := t.folder(id); err != nil {
		return 0, err
	}
	h, level := 0, []string{id}
	for len(level) > 0 && h <= len(t.folders) {
		h++
		var next []string
		for _, p := range level {
			for kid := range t.folderKids[p] {
				next = append(next, kid)
			}
		}
		level = next
	}
	return h, nil
}

// nameTaken reports whether a live item of kind other than exceptID sits
// in parentID under nameNormalized.
func (t *driveTree) nameTaken(kind core.DriveItemKind, parentID, nameNormalized, exceptID string) bool {
	switch kind {
	case core.DriveFolderKind:
		for id := range t.folderKids[parentID] {
			f := t.folders[id]
			if id != exceptID && !f.Trashed() && f.NameNormalized == nameNormalized {
				return true
			}
		}
	case core.DriveFileKind:
		for id := range t.fileKids[parentID] {
			f := t.files[id]
			if id != exceptID && !f.Trashed() && f.NameNormalized == nameNormalized {
				return true
			}
		}
	}
	return false
}

// listKey orders a folder's items: normalized name, then id, byte order.
func listKey(nn, id, otherNN, otherID string) int {
	return cmp.Or(strings.Compare(nn, otherNN), strings.Compare(id, otherID))
}

// list is DriveStore.List on the tree.
func (t *driveTree) list(q core.DriveQuery) core.DriveListing {
	if q.Limit <= 0 {
		return core.DriveListing{}
	}
	after := q.After
	var folders []core.DriveFolder
	if after == nil || after.Kind != core.DriveFileKind {
		for id := range t.folderKids[q.ParentID] {
			f := t.folders[id]
			if f.Trashed() || (q.HideAppFolders && f.AppID != "") ||
				(after != nil && listKey(f.NameNormalized, f.ID, after.NameNormalized, after.ID) <= 0) {
				continue
			}
			folders = append(folders, f)
		}
	}
	var files []core.DriveFile
	for id := range t.fileKids[q.ParentID] {
		f := t.files[id]
		if f.Trashed() || (after != nil && after.Kind == core.DriveFileKind &&
			listKey(f.NameNormalized, f.ID, after.NameNormalized, after.ID) <= 0) {
			continue
		}
		files = append(files, f)
	}
	slices.SortFunc(folders, func(a, b core.DriveFolder) int {
		return listKey(a.NameNormalized, a.ID, b.NameNormalized, b.ID)
	})
	slices.SortFunc(files, func(a, b core.DriveFile) int {
		return listKey(a.NameNormalized, a.ID, b.NameNormalized, b.ID)
	})
	out := core.DriveListing{Folders: folders, Files: files}
	if len(folders)+len(files) <= q.Limit {
		return out
	}
	if q.Limit <= len(folders) {
		out.Folders, out.Files = folders[:q.Limit], nil
		last := out.Folders[q.Limit-1]
		out.Next = &core.DriveCursor{Kind: core.DriveFolderKind, NameNormalized: last.NameNormalized, ID: last.ID}
		return out
	}
	out.Files = files[:q.Limit-len(folders)]
	last := out.Files[len(out.Files)-1]
	out.Next = &core.DriveCursor{Kind: core.DriveFileKind, NameNormalized: last.NameNormalized, ID: last.ID}
	return out
}

// trashKey orders the recycle bin: newest deletion first, then id
// descending.
func trashKey(at time.Time, id string, otherAt time.Time, otherID string) int {
	return cmp.Or(otherAt.Compare(at), strings.Compare(otherID, id))
}

// trash is DriveStore.Trash on the tree.
func (t *driveTree) trash(q core.TrashQuery) core.TrashListing {
	if q.Limit <= 0 {
		return core.TrashListing{}
	}
	after := q.After
	var folders []core.DriveFolder
	if after == nil || after.Kind != core.DriveFileKind {
		for _, f := range t.folders {
			if f.TrashListed() && (after == nil || trashKey(f.TrashedAt, f.ID, after.TrashedAt, after.ID) > 0) {
				folders = append(folders, f)
			}
		}
	}
	var files []core.DriveFile
	for _, f := range t.files {
		if f.TrashListed() && (after == nil || after.Kind != core.DriveFileKind ||
			trashKey(f.TrashedAt, f.ID, after.TrashedAt, after.ID) > 0) {
			files = append(files, f)
		}
	}
	slices.SortFunc(folders, func(a, b core.DriveFolder) int { return trashKey(a.TrashedAt, a.ID, b.TrashedAt, b.ID) })
	slices.SortFunc(files, func(a, b core.DriveFile) int { return trashKey(a.TrashedAt, a.ID, b.TrashedAt, b.ID) })
	out := core.TrashListing{Folders: folders, Files: files}
	if len(folders)+len(files) <= q.Limit {
		return out
	}
	if q.Limit <= len(folders) {
		out.Folders, out.Files = folders[:q.Limit], nil
		last := out.Folders[q.Limit-1]
		out.Next = &core.TrashCursor{TrashedAt: last.TrashedAt, Kind: core.DriveFolderKind, ID: last.ID}
		return out
	}
	out.Files = files[:q.Limit-len(folders)]
	last := out.Files[len(out.Files)-1]
	out.Next = &core.TrashCursor{TrashedAt: last.TrashedAt, Kind: core.DriveFileKind, ID: last.ID}
	return out
}

// Update implements ports.DriveStore. It holds the store's lock while fn
// runs, so fn must not call the Store's own methods (that would deadlock);
// it reads and writes through tx. A drive that no account has is
// core.KindNotFound. fn's error, or its panic, undoes every change it made
// through tx.
func (s *Store) Update(_ context.Context, driveID string, fn func(tx ports.DriveTx) error) (err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.driveExists(driveID) {
		return core.NotFound("drive")
	}
	tree, ok := s.drive.trees[driveID]
	if !ok {
		tree = newDriveTree()
		s.drive.trees[driveID] = tree
	}
	tx := &driveTx{s: s, driveID: driveID, tree: tree}
	done := false
	defer func() {
		if !done || err != nil {
			tx.rollback()
		}
	}()
	err = fn(tx)
	done = true
	return err
}

// Folder implements ports.DriveStore.
func (s *Store) Folder(_ context.Context, driveID, id string) (core.DriveFolder, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.driveTree(driveID).folder(id)
}

// File implements ports.DriveStore.
func (s *Store) File(_ context.Context, driveID, id string) (core.DriveFile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.driveTree(driveID).file(id)
}

// FileByKey implements ports.DriveStore.
func (s *Store) FileByKey(_ context.Context, driveID, key string) (core.DriveFile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.driveTree(driveID).fileWithKey(key)
}

// Path implements ports.DriveStore.
func (s *Store) Path(_ context.Context, driveID, folderID string) ([]core.DriveFolder, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.driveTree(driveID).path(folderID)
}

// List implements ports.DriveStore. A limit of zero or less lists nothing.
func (s *Store) List(_ context.Context, driveID string, q core.DriveQuery) (core.DriveListing, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.driveTree(driveID).list(q), nil
}

// Trash implements ports.DriveStore. A limit of zero or less lists nothing.
func (s *Store) Trash(_ context.Context, driveID string, q core.TrashQuery) (core.TrashListing, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.driveTree(driveID).trash(q), nil
}

// TrashExpired implements ports.DriveStore: by TrashedAt, then id. A limit
// of zero or less lists none.
func (s *Store) TrashExpired(_ context.Context, before time.Time, limit int) ([]core.DriveItemRef, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if limit <= 0 {
		return nil, nil
	}
	type expired struct {
		ref core.DriveItemRef
		at  time.Time
	}
	var all []expired
	for driveID, t := range s.drive.trees {
		for _, f := range t.folders {
			if f.TrashListed() && !f.TrashedAt.After(before) {
				all = append(all, expired{core.DriveItemRef{DriveID: driveID, Kind: core.DriveFolderKind, ID: f.ID}, f.TrashedAt})
			}
		}
		for _, f := range t.files {
			if f.TrashListed() && !f.TrashedAt.After(before) {
				all = append(all, expired{core.DriveItemRef{DriveID: driveID, Kind: core.DriveFileKind, ID: f.ID}, f.TrashedAt})
			}
		}
	}
	slices.SortFunc(all, func(a, b expired) int {
		return cmp.Or(a.at.Compare(b.at), strings.Compare(a.ref.ID, b.ref.ID), strings.Compare(string(a.ref.Kind), string(b.ref.Kind)))
	})
	out := make([]core.DriveItemRef, 0, min(len(all), limit))
	for _, e := range all[:min(len(all), limit)] {
		out = append(out, e.ref)
	}
	return out, nil
}

// PendingObjectDeletions implements ports.DriveStore: in the order the
// deletes committed. A limit of zero or less lists none.
func (s *Store) PendingObjectDeletions(_ context.Context, limit int) ([]core.ObjectDeletion, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if limit <= 0 {
		return nil, nil
	}
	return slices.Clone(s.drive.pending[:min(len(s.drive.pending), limit)]), nil
}

// ObjectsDeleted implements ports.DriveStore.
func (s *Store) ObjectsDeleted(_ context.Context, ids []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	gone := make(map[string]bool, len(ids))
	for _, id := range ids {
		gone[id] = true
	}
	s.drive.pending = slices.DeleteFunc(s.drive.pending, func(d core.ObjectDeletion) bool { return gone[d.ID] })
	return nil
}
