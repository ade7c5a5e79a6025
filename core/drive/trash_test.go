package drive_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/drive"
)

func TestTrash(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("a_file", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		d := f.folder(t, u.key, "D", "")
		file := f.upload(t, u.key, d.ID, "a.jpg", []byte("12345"))
		f.clock.Advance(time.Minute)
		require.NoError(t, f.svc.Trash(ctx, u.session, fileKind, file.ID))
		got := f.getFile(t, u, file.ID)
		require.True(t, got.TrashListed())
		require.Equal(t, file.ID, got.TrashRoot)
		require.Equal(t, start.Add(time.Minute), got.TrashedAt)
		require.Equal(t, start.Add(time.Minute+core.TrashRetention), got.PurgeAt())
		require.Equal(t, d.ID, got.ParentID, "it keeps its parent for a restore")
		_, files := f.listAll(t, u.key, drive.ListQuery{ParentID: d.ID})
		require.Empty(t, files)
		folders, fileIDs := f.trashListed(t, u.key)
		require.Empty(t, folders)
		require.Equal(t, []string{file.ID}, fileIDs)
	})

	t.Run("a_folder_takes_its_subtree_along", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		d := f.folder(t, u.key, "D", "")
		sub := f.folder(t, u.key, "Sub", d.ID)
		subsub := f.folder(t, u.key, "SubSub", sub.ID)
		x := f.upload(t, u.key, d.ID, "x.jpg", []byte("x"))
		y := f.upload(t, u.key, subsub.ID, "y.jpg", []byte("y"))
		keep := f.upload(t, u.key, "", "keep.jpg", []byte("k"))
		f.clock.Advance(time.Hour)
		f.trash(t, u.key, folderKind, d.ID)

		require.True(t, f.getFolder(t, u, d.ID).TrashListed())
		for _, id := range []string{sub.ID, subsub.ID} {
			got := f.getFolder(t, u, id)
			require.Equal(t, d.ID, got.TrashRoot)
			require.Equal(t, start.Add(time.Hour), got.TrashedAt)
			require.False(t, got.TrashListed())
		}
		for _, id := range []string{x.ID, y.ID} {
			got := f.getFile(t, u, id)
			require.Equal(t, d.ID, got.TrashRoot)
			require.False(t, got.TrashListed())
		}
		require.False(t, f.getFile(t, u, keep.ID).Trashed())
		folders, files := f.trashListed(t, u.key)
		require.Equal(t, []string{d.ID}, folders, "the trash lists the folder only")
		require.Empty(t, files)
		rootFolders, _ := f.listAll(t, u.key, drive.ListQuery{})
		require.Empty(t, rootFolders)
		// Trashed bytes still count.
		require.EqualValues(t, 3, f.usage(t, u).UsedBytes)
	})

	t.Run("trashing_twice_changes_nothing", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		d := f.folder(t, u.key, "D", "")
		x := f.upload(t, u.key, d.ID, "x.jpg", []byte("x"))
		f.trash(t, u.key, folderKind, d.ID)
		f.clock.Advance(24 * time.Hour)
		f.trash(t, u.key, folderKind, d.ID)
		f.trash(t, u.key, fileKind, x.ID) // went along with d
		require.Equal(t, start, f.getFolder(t, u, d.ID).TrashedAt)
		got := f.getFile(t, u, x.ID)
		require.Equal(t, start, got.TrashedAt)
		require.Equal(t, d.ID, got.TrashRoot)
		folders, files := f.trashListed(t, u.key)
		require.Equal(t, []string{d.ID}, folders)
		require.Empty(t, files)
	})

	t.Run("items_trashed_before_the_folder_keep_their_own_trash_root", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		d := f.folder(t, u.key, "D", "")
		sub := f.folder(t, u.key, "Sub", d.ID)
		x := f.upload(t, u.key, sub.ID, "x.jpg", []byte("x"))
		inner := f.upload(t, u.key, sub.ID, "inner.jpg", []byte("i"))
		f.trash(t, u.key, fileKind, x.ID)
		f.clock.Advance(time.Minute)
		f.trash(t, u.key, folderKind, sub.ID)
		f.clock.Advance(time.Minute)
		f.trash(t, u.key, folderKind, d.ID)

		require.Equal(t, x.ID, f.getFile(t, u, x.ID).TrashRoot)
		require.Equal(t, start, f.getFile(t, u, x.ID).TrashedAt)
		require.Equal(t, sub.ID, f.getFolder(t, u, sub.ID).TrashRoot)
		require.Equal(t, sub.ID, f.getFile(t, u, inner.ID).TrashRoot)
		folders, files := f.trashListed(t, u.key)
		require.Equal(t, []string{d.ID, sub.ID}, folders, "folders first, newest deletion first")
		require.Equal(t, []string{x.ID}, files)
	})

	t.Run("the_trash_listing_pages", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		var wantFolders, wantFiles []string // newest deletion first
		for i := range 4 {
			d := f.folder(t, u.key, fmt.Sprint("d", i), "")
			f.trash(t, u.key, folderKind, d.ID)
			wantFolders = append([]string{d.ID}, wantFolders...)
			for j := range 2 { // two files trashed at the same instant: by id, descending
				x := f.upload(t, u.key, "", fmt.Sprint("f", i, j), []byte("x"))
				f.trash(t, u.key, fileKind, x.ID)
			}
			f.clock.Advance(time.Minute)
		}
		page, err := f.svc.TrashList(ctx, u.key, "", drive.MaxPage)
		require.NoError(t, err)
		require.Equal(t, wantFolders, folderIDs(page.Folders))
		require.Len(t, page.Files, 8)
		for i := 1; i < len(page.Files); i++ {
			a, b := page.Files[i-1], page.Files[i]
			require.True(t, a.TrashedAt.After(b.TrashedAt) || a.TrashedAt.Equal(b.TrashedAt) && a.ID > b.ID, "newest first, then id descending")
		}
		for _, x := range page.Files {
			wantFiles = append(wantFiles, x.ID)
		}
		for limit := 1; limit <= 13; limit++ {
			var folders, files []string
			cursor := ""
			for pages := 0; ; pages++ {
				require.Less(t, pages, 20)
				l, err := f.svc.TrashList(ctx, u.key, cursor, limit)
				require.NoError(t, err)
				require.LessOrEqual(t, len(l.Folders)+len(l.Files), limit)
				folders = append(folders, folderIDs(l.Folders)...)
				for _, x := range l.Files {
					files = append(files, x.ID)
				}
				if cursor = l.Next; cursor == "" {
					break
				}
			}
			require.Equal(t, wantFolders, folders, "limit %d", limit)
			require.Equal(t, wantFiles, files, "limit %d", limit)
		}
		for _, bad := range []string{"!!", "AAAA", strings.Repeat("A", 400)} {
			_, err := f.svc.TrashList(ctx, u.key, bad, 10)
			requireKind(t, err, core.KindInvalid, "cursor")
		}
		for _, n := range []int{-1, drive.MaxPage + 1} {
			_, err := f.svc.TrashList(ctx, u.key, "", n)
			requireKind(t, err, core.KindInvalid, "limit")
		}
		_, err = f.svc.TrashList(ctx, u.gallery, "", 10)
		requireKind(t, err, core.KindForbidden, "")
		// Each account sees its own recycle bin only.
		folders, files := f.trashListed(t, f.register(t, "").key)
		require.Empty(t, folders)
		require.Empty(t, files)
	})

	t.Run("unknown_foreign_or_malformed_ids_are_404", func(t *testing.T) {
		f := newFixture(t)
		u, other := f.register(t, ""), f.register(t, "")
		theirs := f.folder(t, other.key, "Theirs", "")
		theirFile := f.upload(t, other.key, "", "t.jpg", []byte("t"))
		requireKind(t, f.svc.Trash(ctx, u.key, folderKind, theirs.ID), core.KindNotFound, "")
		requireKind(t, f.svc.Trash(ctx, u.key, fileKind, theirFile.ID), core.KindNotFound, "")
		requireKind(t, f.svc.Trash(ctx, u.key, fileKind, unknownFile), core.KindNotFound, "")
		requireKind(t, f.svc.Trash(ctx, u.key, folderKind, "a/b"), core.KindNotFound, "")
		require.False(t, f.getFolder(t, other, theirs.ID).Trashed())
		requireKind(t, f.svc.Trash(ctx, u.gallery, folderKind, unknownFolder), core.KindForbidden, "")
	})
}

func TestRestore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("to_the_original_parent", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		d := f.folder(t, u.key, "D", "")
		sub := f.folder(t, u.key, "Sub", d.ID)
		x := f.upload(t, u.key, d.ID, "x.jpg", []byte("x"))
		f.trash(t, u.key, fileKind, x.ID)
		f.trash(t, u.key, folderKind, sub.ID)
		f.clock.Advance(time.Hour)
		require.NoError(t, f.svc.Restore(ctx, u.session, drive.Selection{FileIDs: []string{x.ID}, FolderIDs: []string{sub.ID}}))
		got := f.getFile(t, u, x.ID)
		require.False(t, got.Trashed())
		require.Empty(t, got.TrashRoot)
		require.Equal(t, d.ID, got.ParentID)
		require.Equal(t, "x.jpg", got.Name)
		require.Equal(t, start.Add(time.Hour), got.UpdatedAt)
		require.Equal(t, d.ID, f.getFolder(t, u, sub.ID).ParentID)
		folders, files := f.trashListed(t, u.key)
		require.Empty(t, folders)
		require.Empty(t, files)
	})

	t.Run("to_the_root_when_the_parent_is_trashed", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		d := f.folder(t, u.key, "D", "")
		sub := f.folder(t, u.key, "Sub", d.ID)
		x := f.upload(t, u.key, sub.ID, "x.jpg", []byte("x"))
		f.trash(t, u.key, fileKind, x.ID)
		f.trash(t, u.key, folderKind, sub.ID)
		f.trash(t, u.key, folderKind, d.ID)
		require.NoError(t, f.svc.Restore(ctx, u.key, drive.Selection{FileIDs: []string{x.ID}, FolderIDs: []string{sub.ID}}))
		require.Equal(t, "", f.getFolder(t, u, sub.ID).ParentID)
		require.Equal(t, sub.ID, f.getFile(t, u, x.ID).ParentID, "the folder came back first, the file into it")
		require.True(t, f.getFolder(t, u, d.ID).Trashed())
	})

	t.Run("a_name_clash_adds_a_number", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		var folders, files []string
		for range 3 {
			d := f.folder(t, u.key, "Docs", "")
			f.trash(t, u.key, folderKind, d.ID)
			folders = append(folders, d.ID)
			x := f.upload(t, u.key, "", "photo.jpg", []byte("x"))
			f.trash(t, u.key, fileKind, x.ID)
			files = append(files, x.ID)
		}
		f.folder(t, u.key, "docs", "")
		f.upload(t, u.key, "", "PHOTO.jpg", []byte("x"))
		for _, id := range folders {
			require.NoError(t, f.svc.Restore(ctx, u.key, drive.Selection{FolderIDs: []string{id}}))
		}
		require.NoError(t, f.svc.Restore(ctx, u.key, drive.Selection{FileIDs: files}))
		gotFolders, gotFiles := f.listAll(t, u.key, drive.ListQuery{})
		var names []string
		for _, d := range gotFolders {
			names = append(names, d.Name)
		}
		require.Equal(t, []string{"docs", "Docs (1)", "Docs (2)", "Docs (3)"}, names)
		// By normalized name in byte order: " " sorts before ".".
		require.Equal(t, []string{"photo (1).jpg", "photo (2).jpg", "photo (3).jpg", "PHOTO.jpg"}, fileNames(gotFiles))
	})

	t.Run("a_folder_brings_back_its_subtree_but_not_what_was_trashed_before", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		d := f.folder(t, u.key, "D", "")
		sub := f.folder(t, u.key, "Sub", d.ID)
		x := f.upload(t, u.key, sub.ID, "x.jpg", []byte("x"))
		early := f.upload(t, u.key, sub.ID, "early.jpg", []byte("e"))
		earlyDir := f.folder(t, u.key, "Early", d.ID)
		f.trash(t, u.key, fileKind, early.ID)
		f.trash(t, u.key, folderKind, earlyDir.ID)
		f.trash(t, u.key, folderKind, d.ID)
		require.NoError(t, f.svc.Restore(ctx, u.key, drive.Selection{FolderIDs: []string{d.ID}}))
		for _, id := range []string{d.ID, sub.ID} {
			require.False(t, f.getFolder(t, u, id).Trashed())
		}
		require.False(t, f.getFile(t, u, x.ID).Trashed())
		require.True(t, f.getFile(t, u, early.ID).TrashListed())
		require.True(t, f.getFolder(t, u, earlyDir.ID).TrashListed())
		folders, files := f.trashListed(t, u.key)
		require.Equal(t, []string{earlyDir.ID}, folders)
		require.Equal(t, []string{early.ID}, files)
	})

	t.Run("an_item_trashed_along_with_its_folder_is_404", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		d := f.folder(t, u.key, "D", "")
		sub := f.folder(t, u.key, "Sub", d.ID)
		x := f.upload(t, u.key, d.ID, "x.jpg", []byte("x"))
		f.trash(t, u.key, folderKind, d.ID)
		requireKind(t, f.svc.Restore(ctx, u.key, drive.Selection{FileIDs: []string{x.ID}}), core.KindNotFound, "")
		requireKind(t, f.svc.Restore(ctx, u.key, drive.Selection{FolderIDs: []string{sub.ID}}), core.KindNotFound, "")
		require.Equal(t, d.ID, f.getFile(t, u, x.ID).TrashRoot)
	})

	t.Run("one_bad_id_restores_nothing", func(t *testing.T) {
		f := newFixture(t)
		u, other := f.register(t, ""), f.register(t, "")
		d := f.folder(t, u.key, "D", "")
		x := f.upload(t, u.key, "", "x.jpg", []byte("x"))
		live := f.upload(t, u.key, "", "live.jpg", []byte("l"))
		theirs := f.upload(t, other.key, "", "t.jpg", []byte("t"))
		f.trash(t, u.key, folderKind, d.ID)
		f.trash(t, u.key, fileKind, x.ID)
		f.trash(t, other.key, fileKind, theirs.ID)
		for _, bad := range []string{live.ID, theirs.ID, unknownFile} {
			err := f.svc.Restore(ctx, u.key, drive.Selection{FolderIDs: []string{d.ID}, FileIDs: []string{x.ID, bad}})
			requireKind(t, err, core.KindNotFound, "")
			require.True(t, f.getFolder(t, u, d.ID).TrashListed())
			require.True(t, f.getFile(t, u, x.ID).TrashListed())
		}
		err := f.svc.Restore(ctx, u.key, drive.Selection{FolderIDs: []string{d.ID, "bad id"}})
		requireKind(t, err, core.KindNotFound, "")
		require.True(t, f.getFile(t, other, theirs.ID).Trashed(), "another account's item stays put")
		// Duplicates are fine.
		require.NoError(t, f.svc.Restore(ctx, u.key, drive.Selection{FolderIDs: []string{d.ID, d.ID}, FileIDs: []string{x.ID, x.ID}}))
		require.False(t, f.getFolder(t, u, d.ID).Trashed())
	})

	t.Run("shallowest_folders_first", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		// Ids grow with time: made deepest first, then moved into place,
		// the folders' id order is the wrong order to restore them in.
		c := f.folder(t, u.key, "C", "")
		f.clock.Advance(time.Millisecond)
		mid := f.folder(t, u.key, "Mid", "")
		f.clock.Advance(time.Millisecond)
		p := f.folder(t, u.key, "P", "")
		require.Less(t, c.ID, mid.ID)
		require.Less(t, mid.ID, p.ID)
		_, err := f.svc.Update(ctx, u.key, folderKind, mid.ID, drive.Patch{Move: true, Target: p.ID})
		require.NoError(t, err)
		_, err = f.svc.Update(ctx, u.key, folderKind, c.ID, drive.Patch{Move: true, Target: mid.ID})
		require.NoError(t, err)
		f.trash(t, u.key, folderKind, c.ID)
		f.trash(t, u.key, folderKind, mid.ID)
		f.trash(t, u.key, folderKind, p.ID)
		// Deepest first in the request: the order given does not matter.
		require.NoError(t, f.svc.Restore(ctx, u.key, drive.Selection{FolderIDs: []string{c.ID, mid.ID, p.ID}}))
		require.Equal(t, mid.ID, f.getFolder(t, u, c.ID).ParentID)
		require.Equal(t, p.ID, f.getFolder(t, u, mid.ID).ParentID)
		path, err := f.store.Path(ctx, u.driveID, c.ID)
		require.NoError(t, err)
		require.Equal(t, []string{c.ID, mid.ID, p.ID}, folderIDs(path))
		for _, d := range path {
			require.False(t, d.Trashed())
		}
	})

	t.Run("bad_selections", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		requireKind(t, f.svc.Restore(ctx, u.key, drive.Selection{}), core.KindInvalid, "")
		many := make([]string, drive.MaxBatch+1)
		for i := range many {
			many[i] = unknownFile
		}
		requireKind(t, f.svc.Restore(ctx, u.key, drive.Selection{FileIDs: many}), core.KindInvalid, "")
		requireKind(t, f.svc.Restore(ctx, u.gallery, drive.Selection{FileIDs: []string{unknownFile}}), core.KindForbidden, "")
	})
}

func TestDelete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("the_quota_is_released_at_once_and_the_objects_go_later", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		x := f.upload(t, u.key, "", "x.jpg", make([]byte, 100))
		y := f.upload(t, u.key, "", "y.jpg", make([]byte, 50))
		f.trash(t, u.key, fileKind, x.ID)
		require.Equal(t, core.Usage{UsedBytes: 150}, f.usage(t, u))
		require.NoError(t, f.svc.Delete(ctx, u.session, drive.Selection{FileIDs: []string{x.ID}}))
		require.Equal(t, core.Usage{UsedBytes: 50}, f.usage(t, u))
		used, _, err := f.svc.Storage(ctx, u.key)
		require.NoError(t, err)
		require.EqualValues(t, 50, used)
		_, err = f.store.File(ctx, u.driveID, x.ID)
		requireKind(t, err, core.KindNotFound, "")

		pending, err := f.store.PendingObjectDeletions(ctx, 10)
		require.NoError(t, err)
		require.Len(t, pending, 1)
		require.Equal(t, x.StorageKey, pending[0].StorageKey)
		_, err = f.blobs.Head(ctx, x.StorageKey)
		require.NoError(t, err, "the object stays until the worker runs")

		n, err := f.svc.DeleteObjects(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		_, err = f.blobs.Head(ctx, x.StorageKey)
		requireKind(t, err, core.KindNotFound, "")
		_, err = f.blobs.Head(ctx, y.StorageKey)
		require.NoError(t, err)
		pending, err = f.store.PendingObjectDeletions(ctx, 10)
		require.NoError(t, err)
		require.Empty(t, pending)
		n, err = f.svc.DeleteObjects(ctx)
		require.NoError(t, err)
		require.Zero(t, n)
	})

	t.Run("live_items_are_404_and_nothing_goes", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		x := f.upload(t, u.key, "", "x.jpg", []byte("x"))
		live := f.upload(t, u.key, "", "live.jpg", []byte("l"))
		d := f.folder(t, u.key, "D", "")
		f.trash(t, u.key, fileKind, x.ID)
		requireKind(t, f.svc.Delete(ctx, u.key, drive.Selection{FileIDs: []string{x.ID, live.ID}}), core.KindNotFound, "")
		requireKind(t, f.svc.Delete(ctx, u.key, drive.Selection{FileIDs: []string{x.ID}, FolderIDs: []string{d.ID}}), core.KindNotFound, "")
		requireKind(t, f.svc.Delete(ctx, u.key, drive.Selection{FileIDs: []string{x.ID, unknownFile}}), core.KindNotFound, "")
		require.True(t, f.getFile(t, u, x.ID).Trashed())
		require.Equal(t, core.Usage{UsedBytes: 2}, f.usage(t, u))
		pending, err := f.store.PendingObjectDeletions(ctx, 10)
		require.NoError(t, err)
		require.Empty(t, pending)
	})

	t.Run("another_accounts_items_are_404", func(t *testing.T) {
		f := newFixture(t)
		u, other := f.register(t, ""), f.register(t, "")
		theirs := f.upload(t, other.key, "", "t.jpg", []byte("t"))
		f.trash(t, other.key, fileKind, theirs.ID)
		requireKind(t, f.svc.Delete(ctx, u.key, drive.Selection{FileIDs: []string{theirs.ID}}), core.KindNotFound, "")
		require.True(t, f.getFile(t, other, theirs.ID).Trashed())
	})

	t.Run("a_folder_and_a_file_inside_it_in_one_call", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		d := f.folder(t, u.key, "D", "")
		sub := f.folder(t, u.key, "Sub", d.ID)
		x := f.upload(t, u.key, d.ID, "x.jpg", make([]byte, 10))
		y := f.upload(t, u.key, sub.ID, "y.jpg", make([]byte, 20))
		early := f.upload(t, u.key, sub.ID, "early.jpg", make([]byte, 30))
		f.trash(t, u.key, fileKind, early.ID)
		f.trash(t, u.key, folderKind, d.ID)
		require.NoError(t, f.svc.Delete(ctx, u.key, drive.Selection{FileIDs: []string{x.ID, y.ID}, FolderIDs: []string{sub.ID, d.ID}}))
		for _, id := range []string{d.ID, sub.ID} {
			_, err := f.store.Folder(ctx, u.driveID, id)
			requireKind(t, err, core.KindNotFound, "")
		}
		for _, id := range []string{x.ID, y.ID, early.ID} {
			_, err := f.store.File(ctx, u.driveID, id)
			requireKind(t, err, core.KindNotFound, "")
		}
		require.Equal(t, core.Usage{}, f.usage(t, u))
		folders, files := f.trashListed(t, u.key)
		require.Empty(t, folders)
		require.Empty(t, files, "a file trashed on its own goes with its folder")
		n, err := f.svc.DeleteObjects(ctx)
		require.NoError(t, err)
		require.Equal(t, 3, n)
	})

	t.Run("a_file_that_went_with_its_folder_can_go_alone", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		d := f.folder(t, u.key, "D", "")
		x := f.upload(t, u.key, d.ID, "x.jpg", make([]byte, 10))
		f.upload(t, u.key, d.ID, "y.jpg", make([]byte, 20))
		f.trash(t, u.key, folderKind, d.ID)
		require.NoError(t, f.svc.Delete(ctx, u.key, drive.Selection{FileIDs: []string{x.ID}}))
		require.Equal(t, core.Usage{UsedBytes: 20}, f.usage(t, u))
		require.NoError(t, f.svc.Restore(ctx, u.key, drive.Selection{FolderIDs: []string{d.ID}}))
		_, files := f.listAll(t, u.key, drive.ListQuery{ParentID: d.ID})
		require.Equal(t, []string{"y.jpg"}, fileNames(files))
	})
}

func TestPurgeTrash(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	u, other := f.register(t, ""), f.register(t, "")
	old := f.upload(t, u.key, "", "old.jpg", make([]byte, 100))
	d := f.folder(t, u.key, "D", "")
	inD := f.upload(t, u.key, d.ID, "in.jpg", make([]byte, 10))
	theirs := f.upload(t, other.key, "", "theirs.jpg", make([]byte, 7))
	back := f.upload(t, u.key, "", "back.jpg", make([]byte, 1))
	f.trash(t, u.key, fileKind, old.ID)
	f.trash(t, u.key, folderKind, d.ID)
	f.trash(t, other.key, fileKind, theirs.ID)
	f.trash(t, u.key, fileKind, back.ID)
	f.clock.Advance(time.Second)
	newer := f.upload(t, u.key, "", "newer.jpg", make([]byte, 1000))
	f.trash(t, u.key, fileKind, newer.ID)
	f.clock.Advance(24 * time.Hour)
	require.NoError(t, f.svc.Restore(ctx, u.key, drive.Selection{FileIDs: []string{back.ID}}))

	// A second short of the retention: nothing goes.
	f.clock.Set(start.Add(core.TrashRetention - time.Second))
	n, err := f.svc.PurgeTrash(ctx)
	require.NoError(t, err)
	require.Zero(t, n)

	// Exactly the retention: what was trashed at start goes, in every drive.
	f.clock.Set(start.Add(core.TrashRetention))
	n, err = f.svc.PurgeTrash(ctx)
	require.NoError(t, err)
	require.Equal(t, 3, n)
	for _, id := range []string{old.ID, inD.ID} {
		_, err := f.store.File(ctx, u.driveID, id)
		requireKind(t, err, core.KindNotFound, "")
	}
	_, err = f.store.Folder(ctx, u.driveID, d.ID)
	requireKind(t, err, core.KindNotFound, "")
	_, err = f.store.File(ctx, other.driveID, theirs.ID)
	requireKind(t, err, core.KindNotFound, "")
	require.True(t, f.getFile(t, u, newer.ID).Trashed())
	require.False(t, f.getFile(t, u, back.ID).Trashed(), "a restored file is not purged")
	require.Equal(t, core.Usage{UsedBytes: 1001}, f.usage(t, u))
	require.Equal(t, core.Usage{}, f.usage(t, other))
	pending, err := f.store.PendingObjectDeletions(ctx, 10)
	require.NoError(t, err)
	require.Len(t, pending, 3)

	f.clock.Advance(time.Second)
	n, err = f.svc.PurgeTrash(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, core.Usage{UsedBytes: 1}, f.usage(t, u))
	n, err = f.svc.DeleteObjects(ctx)
	require.NoError(t, err)
	require.Equal(t, 4, n)
	for _, file := range []core.DriveFile{old, inD, theirs, newer} {
		_, err := f.blobs.Head(ctx, file.StorageKey)
		requireKind(t, err, core.KindNotFound, "")
	}
	_, err = f.blobs.Head(ctx, back.StorageKey)
	require.NoError(t, err)

	// Restored then trashed again: the retention counts from the second time.
	f.trash(t, u.key, fileKind, back.ID)
	f.clock.Advance(core.TrashRetention - time.Second)
	n, err = f.svc.PurgeTrash(ctx)
	require.NoError(t, err)
	require.Zero(t, n)
	f.clock.Advance(time.Second)
	n, err = f.svc.PurgeTrash(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
}

func TestStorage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	u := f.register(t, "")
	small := f.register(t, f.drivePlan(t, 1234))

	used, limit, err := f.svc.Storage(ctx, u.session)
	require.NoError(t, err)
	require.Zero(t, used)
	require.EqualValues(t, 10<<30, limit, "Drive Free")
	_, limit, err = f.svc.Storage(ctx, small.key)
	require.NoError(t, err)
	require.EqualValues(t, 1234, limit)

	x := f.upload(t, u.key, "", "x.jpg", make([]byte, 300))
	f.upload(t, u.key, "", "y.jpg", make([]byte, 200))
	f.trash(t, u.key, fileKind, x.ID)
	used, _, err = f.svc.Storage(ctx, u.key)
	require.NoError(t, err)
	require.EqualValues(t, 500, used, "trashed bytes count until purged")

	f.clock.Advance(core.TrashRetention)
	_, err = f.svc.PurgeTrash(ctx)
	require.NoError(t, err)
	used, _, err = f.svc.Storage(ctx, u.key)
	require.NoError(t, err)
	require.EqualValues(t, 200, used)

	_, _, err = f.svc.Storage(ctx, u.gallery)
	requireKind(t, err, core.KindForbidden, "")
}

func TestPurgeTrashGoesOnPastADriveThatFails(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	stuck, fine := f.register(t, ""), f.register(t, "")
	a := f.upload(t, stuck.key, "", "a.jpg", make([]byte, 5))
	b := f.upload(t, fine.key, "", "b.jpg", make([]byte, 7))
	f.trash(t, stuck.key, fileKind, a.ID) // trashed first: listed first
	f.clock.Advance(time.Second)
	f.trash(t, fine.key, fileKind, b.ID)
	f.clock.Advance(core.TrashRetention + time.Second)

	f.dstore.failDrive.Store(stuck.driveID)
	n, err := f.svc.PurgeTrash(ctx)
	require.Error(t, err, "the failure is reported")
	require.Contains(t, err.Error(), a.ID)
	require.Equal(t, 1, n, "the other drive's item is purged all the same")
	_, err = f.store.File(ctx, fine.driveID, b.ID)
	requireKind(t, err, core.KindNotFound, "")
	require.True(t, f.getFile(t, stuck, a.ID).Trashed(), "the failing item stays for the next run")

	f.dstore.failDrive.Store("")
	n, err = f.svc.PurgeTrash(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	_, err = f.store.File(ctx, stuck.driveID, a.ID)
	requireKind(t, err, core.KindNotFound, "")
}
