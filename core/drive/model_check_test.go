package drive_test

import (
	"context"
	"maps"
	"slices"

	"github.com/gellhub/gellhub/core"
)

// check compares the store with the model and checks the tree's
// invariants: no cycles (every folder's path reaches the root within
// MaxDriveDepth levels), no orphans (every item's parent exists, a live
// item's parent is live), unique live sibling names, used bytes = sizes
// of the live and trashed files, nothing reserved, the recycle bin and
// the objects awaiting deletion as expected.
func (m *treeModel) check() {
	m.t.Helper()
	ctx := context.Background()
	st, driveID := m.f.store, m.u.driveID
	var used int64
	for _, id := range m.order {
		want, ok := m.items[id]
		if !ok {
			continue
		}
		var got core.DriveItem
		if want.kind == folderKind {
			d, err := st.Folder(ctx, driveID, id)
			if err != nil {
				m.fatalf("folder %s: %v", id, err)
			}
			got = d.DriveItem
		} else {
			d, err := st.File(ctx, driveID, id)
			if err != nil {
				m.fatalf("file %s: %v", id, err)
			}
			if d.Size != want.size || d.StorageKey != want.key {
				m.fatalf("file %s: size %d key %s, want %d %s", id, d.Size, d.StorageKey, want.size, want.key)
			}
			used += d.Size
			got = d.DriveItem
		}
		if got.ParentID != want.parent || got.Name != want.name || got.NameNormalized != core.NormalizeDriveName(want.name) ||
			!got.TrashedAt.Equal(want.trashedAt) || got.TrashRoot != want.trashRoot {
			m.fatalf("%s %s is {parent %q name %q trashed %v root %q}, want {parent %q name %q trashed %v root %q}",
				want.kind, id, got.ParentID, got.Name, got.TrashedAt, got.TrashRoot, want.parent, want.name, want.trashedAt, want.trashRoot)
		}
		// No orphans.
		if got.ParentID != "" {
			p, err := st.Folder(ctx, driveID, got.ParentID)
			if err != nil {
				m.fatalf("%s %s: parent %s: %v", want.kind, id, got.ParentID, err)
			}
			if !got.Trashed() && p.Trashed() {
				m.fatalf("live %s %s sits in trashed folder %s", want.kind, id, p.ID)
			}
		}
		// No cycles: the parents lead to the root, as Path says.
		if want.kind == folderKind {
			m.checkPath(id)
		}
	}
	for id, kind := range m.gone {
		var err error
		if kind == folderKind {
			_, err = st.Folder(ctx, driveID, id)
		} else {
			_, err = st.File(ctx, driveID, id)
		}
		if !core.IsKind(err, core.KindNotFound) {
			m.fatalf("%s %s was deleted, store says %v", kind, id, err)
		}
	}

	u, err := st.Usage(ctx, driveID)
	if err != nil {
		m.fatalf("usage: %v", err)
	}
	if u.UsedBytes != used || u.ReservedBytes != 0 {
		m.fatalf("usage %+v, want %d used, 0 reserved", u, used)
	}

	for _, parent := range append([]string{""}, m.ids(liveFolder)...) {
		m.checkListing(parent)
	}

	tl, err := st.Trash(ctx, driveID, core.TrashQuery{Limit: 10000})
	if err != nil {
		m.fatalf("trash: %v", err)
	}
	var listed []string
	for _, d := range tl.Folders {
		listed = append(listed, d.ID)
	}
	for _, d := range tl.Files {
		listed = append(listed, d.ID)
	}
	want := m.ids(func(it *mItem) bool { return it.listed() })
	slices.Sort(listed)
	slices.Sort(want)
	if !slices.Equal(listed, want) {
		m.fatalf("trash lists %v, want %v", listed, want)
	}

	pending, err := st.PendingObjectDeletions(ctx, 10000)
	if err != nil {
		m.fatalf("pending deletions: %v", err)
	}
	var keys []string
	for _, p := range pending {
		keys = append(keys, p.StorageKey)
	}
	slices.Sort(keys)
	if wantKeys := slices.Sorted(maps.Keys(m.pending)); !slices.Equal(keys, wantKeys) {
		m.fatalf("pending deletions %v, want %v", keys, wantKeys)
	}
}

// checkPath follows a folder's parents to the root and compares the walk
// with the store's Path.
func (m *treeModel) checkPath(id string) {
	ctx := context.Background()
	st, driveID := m.f.store, m.u.driveID
	var walk []string
	for cur := id; cur != ""; {
		if len(walk) >= core.MaxDriveDepth {
			m.fatalf("folder %s: no root within %d levels (a cycle?): %v", id, core.MaxDriveDepth, walk)
		}
		d, err := st.Folder(ctx, driveID, cur)
		if err != nil {
			m.fatalf("folder %s: ancestor %s: %v", id, cur, err)
		}
		walk = append(walk, cur)
		cur = d.ParentID
	}
	path, err := st.Path(ctx, driveID, id)
	if err != nil {
		m.fatalf("path of %s: %v", id, err)
	}
	if ids := folderIDs(path); !slices.Equal(ids, walk) {
		m.fatalf("path of %s is %v, its parents %v", id, ids, walk)
	}
}

// checkListing compares a live folder's listing with the model's live
// children and checks that sibling names are unique per kind.
func (m *treeModel) checkListing(parent string) {
	l, err := m.f.store.List(context.Background(), m.u.driveID, core.DriveQuery{ParentID: parent, Limit: 10000})
	if err != nil {
		m.fatalf("list %q: %v", parent, err)
	}
	if l.Next != nil {
		m.fatalf("list %q: a second page", parent)
	}
	var got []string
	names := map[core.DriveItemKind]map[string]bool{folderKind: {}, fileKind: {}}
	seen := func(kind core.DriveItemKind, id, norm string) {
		if names[kind][norm] {
			m.fatalf("two live %ss named %q in %q", kind, norm, parent)
		}
		names[kind][norm] = true
		got = append(got, id)
	}
	for _, d := range l.Folders {
		seen(folderKind, d.ID, d.NameNormalized)
	}
	for _, d := range l.Files {
		seen(fileKind, d.ID, d.NameNormalized)
	}
	want := m.ids(func(it *mItem) bool { return it.parent == parent && !it.trashed() })
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		m.fatalf("folder %q lists %v, want %v", parent, got, want)
	}
}
