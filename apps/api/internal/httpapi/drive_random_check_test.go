package httpapi

import (
	"context"
	"strings"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
)

// storedItem is an item as the store holds it.
type storedItem struct {
	core.DriveItem
	size  int64
	key   string
	appID string
}

// check reads the store (its listings, and each trashed item that went
// with a folder) and compares it with the model, then checks the tree's
// invariants on what the store holds.
func (r *driveRun) check() {
	t, ctx, st := r.t, context.Background(), r.s.store
	// The listings hold exactly the live tree and the listed trash.
	stored := map[string]storedItem{}
	live := r.listTree(ctx, "", stored)
	require.ElementsMatch(t, r.existing(func(it *rItem) bool { return !it.trashed }), live)
	require.ElementsMatch(t, r.existing((*rItem).listed), r.listTrash(ctx, stored))
	var used int64
	for _, id := range r.existing(nil) {
		it := r.items[id]
		got, ok := stored[id]
		switch {
		case ok:
		case isFolder(it):
			f, err := st.Folder(ctx, r.driveID, id)
			require.NoError(t, err, "folder %s", id)
			got = storedItem{DriveItem: f.DriveItem, appID: f.AppID}
		default:
			f, err := st.File(ctx, r.driveID, id)
			require.NoError(t, err, "file %s", id)
			got = storedItem{DriveItem: f.DriveItem, size: f.Size, key: f.StorageKey}
		}
		want := storedItem{DriveItem: core.DriveItem{
			ID: id, ParentID: it.parent, Name: it.name, NameNormalized: core.NormalizeDriveName(it.name), TrashRoot: it.root,
		}, size: it.size, key: it.key}
		require.Equal(t, want, storedItem{DriveItem: core.DriveItem{
			ID: got.ID, ParentID: got.ParentID, Name: got.Name, NameNormalized: got.NameNormalized, TrashRoot: got.TrashRoot,
		}, size: got.size, key: got.key, appID: got.appID}, "item %s", id)
		require.Equal(t, it.trashed, got.Trashed(), "item %s in the bin", id)
		used += got.size
		stored[id] = got
	}
	for _, id := range r.gone {
		_, ferr := st.Folder(ctx, r.driveID, id)
		_, err := st.File(ctx, r.driveID, id)
		require.True(t, core.IsKind(ferr, core.KindNotFound) && core.IsKind(err, core.KindNotFound), "%s is gone: %v %v", id, ferr, err)
	}

	// No cycles: every folder's path ends at the root, within the depth.
	for id, it := range stored {
		if !strings.HasPrefix(id, "fld_") {
			continue
		}
		path, err := st.Path(ctx, r.driveID, id)
		require.NoError(t, err)
		require.NotEmpty(t, path)
		require.LessOrEqual(t, len(path), core.MaxDriveDepth)
		require.Equal(t, id, path[0].ID)
		require.Equal(t, it.ParentID, path[0].ParentID)
		for i := 1; i < len(path); i++ {
			require.Equal(t, path[i-1].ParentID, path[i].ID, "path of %s", id)
		}
		require.Empty(t, path[len(path)-1].ParentID, "the path of %s ends at the root", id)
	}
	// No orphans; live items sit in live folders; live sibling names are
	// unique per kind.
	siblings := map[string]string{}
	for id, it := range stored {
		if it.ParentID != "" {
			p, ok := stored[it.ParentID]
			require.True(t, ok, "the parent of %s exists", id)
			require.True(t, it.Trashed() || !p.Trashed(), "live %s sits in a live folder", id)
		}
		if !it.Trashed() {
			k := strings.SplitN(id, "_", 2)[0] + "/" + it.ParentID + "/" + it.NameNormalized
			require.Empty(t, siblings[k], "%s and %s share a name", siblings[k], id)
			siblings[k] = id
		}
	}
	// Used bytes are the sizes of the files that exist, live or trashed.
	u, err := r.s.quota.Usage(ctx, r.driveID)
	require.NoError(t, err)
	require.Equal(t, core.Usage{UsedBytes: used}, u)
}

// listTree pages through a live folder and its subfolders in the store,
// recording what it lists in seen.
func (r *driveRun) listTree(ctx context.Context, parent string, seen map[string]storedItem) []string {
	var out []string
	q := core.DriveQuery{ParentID: parent, Limit: 5}
	for {
		l, err := r.s.store.List(ctx, r.driveID, q)
		require.NoError(r.t, err)
		for _, f := range l.Folders {
			require.Equal(r.t, parent, f.ParentID)
			seen[f.ID] = storedItem{DriveItem: f.DriveItem, appID: f.AppID}
			out = append(out, f.ID)
			out = append(out, r.listTree(ctx, f.ID, seen)...)
		}
		for _, f := range l.Files {
			require.Equal(r.t, parent, f.ParentID)
			seen[f.ID] = storedItem{DriveItem: f.DriveItem, size: f.Size, key: f.StorageKey}
			out = append(out, f.ID)
		}
		if l.Next == nil {
			return out
		}
		q.After = l.Next
	}
}

// listTrash pages through the recycle bin in the store, recording what
// it lists in seen.
func (r *driveRun) listTrash(ctx context.Context, seen map[string]storedItem) []string {
	var out []string
	q := core.TrashQuery{Limit: 3}
	for {
		l, err := r.s.store.Trash(ctx, r.driveID, q)
		require.NoError(r.t, err)
		for _, f := range l.Folders {
			seen[f.ID] = storedItem{DriveItem: f.DriveItem, appID: f.AppID}
			out = append(out, f.ID)
		}
		for _, f := range l.Files {
			seen[f.ID] = storedItem{DriveItem: f.DriveItem, size: f.Size, key: f.StorageKey}
			out = append(out, f.ID)
		}
		if l.Next == nil {
			return out
		}
		q.After = l.Next
	}
}
