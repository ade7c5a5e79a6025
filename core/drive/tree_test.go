package drive_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/drive"
)

const (
	folderKind = core.DriveFolderKind
	fileKind   = core.DriveFileKind
)

func TestCreateFolder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("a_root_folder_and_a_nested_one", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		root, err := f.svc.CreateFolder(ctx, u.key, "  Photos ", "")
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(root.ID, "fld_"), root.ID)
		require.Equal(t, "Photos", root.Name)
		require.Equal(t, "photos", root.NameNormalized)
		require.Equal(t, "", root.ParentID)
		require.Equal(t, u.driveID, root.DriveID)
		require.Equal(t, start, root.CreatedAt)
		require.False(t, root.Trashed())
		require.Empty(t, root.AppID)
		require.Equal(t, root, f.getFolder(t, u, root.ID))

		nested, err := f.svc.CreateFolder(ctx, u.session, "2026", root.ID)
		require.NoError(t, err, "a session creates folders too")
		require.Equal(t, root.ID, nested.ParentID)
		path, err := f.store.Path(ctx, u.driveID, nested.ID)
		require.NoError(t, err)
		require.Equal(t, []string{nested.ID, root.ID}, folderIDs(path))
	})

	t.Run("invalid_names_are_400", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		for _, bad := range []string{
			"", "   ", ".", "..", "a/b", "/", `a\b`, "a\x00b", "bell\x07", "line\nbreak", "tab\tname",
			"bidi\u202e", strings.Repeat("x", core.MaxFileNameLen+1), strings.Repeat("é", core.MaxFileNameLen/2+1),
		} {
			_, err := f.svc.CreateFolder(ctx, u.key, bad, "")
			requireKind(t, err, core.KindInvalid, "name")
		}
		d := f.folder(t, u.key, strings.Repeat("x", core.MaxFileNameLen), "")
		require.Len(t, d.Name, core.MaxFileNameLen)
		f.folder(t, u.key, "...hidden", "")
	})

	t.Run("a_sibling_of_the_same_name_in_any_case_is_409_name_taken", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		p := f.folder(t, u.key, "Photos", "")
		for _, dup := range []string{"Photos", "photos", "PHOTOS", " pHoToS "} {
			_, err := f.svc.CreateFolder(ctx, u.key, dup, "")
			requireCode(t, err, core.KindConflict, "name_taken")
		}
		f.folder(t, u.key, "Photos", p.ID) // another parent: no clash
		_, err := f.svc.CreateFolder(ctx, u.key, "photos", p.ID)
		requireCode(t, err, core.KindConflict, "name_taken")

		// Names are per drive, and a file of the same name is no clash.
		other := f.register(t, "")
		f.folder(t, other.key, "Photos", "")
		f.upload(t, u.key, "", "Docs", []byte("x"))
		f.folder(t, u.key, "Docs", "")
	})

	t.Run("a_trashed_sibling_does_not_clash", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		old := f.folder(t, u.key, "Photos", "")
		f.trash(t, u.key, folderKind, old.ID)
		d := f.folder(t, u.key, "photos", "")
		require.NotEqual(t, old.ID, d.ID)
	})

	t.Run("an_unknown_foreign_or_malformed_parent_is_404", func(t *testing.T) {
		f := newFixture(t)
		u, other := f.register(t, ""), f.register(t, "")
		theirs := f.folder(t, other.key, "Theirs", "")
		file := f.upload(t, u.key, "", "a.jpg", []byte("x"))
		for _, parent := range []string{unknownFolder, theirs.ID, file.ID, "../etc", "fld_ x", strings.Repeat("a", 65)} {
			_, err := f.svc.CreateFolder(ctx, u.key, "New", parent)
			requireKind(t, err, core.KindNotFound, "")
		}
	})

	t.Run("a_trashed_parent_is_409_in_trash", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		p := f.folder(t, u.key, "Old", "")
		sub := f.folder(t, u.key, "Sub", p.ID)
		f.trash(t, u.key, folderKind, p.ID)
		for _, parent := range []string{p.ID, sub.ID} {
			_, err := f.svc.CreateFolder(ctx, u.key, "New", parent)
			requireCode(t, err, core.KindConflict, "in_trash")
		}
	})

	t.Run("folders_nest_at_most_MaxDriveDepth_levels", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		levels := f.chain(t, u.key, "", core.MaxDriveDepth)
		deepest := levels[len(levels)-1]
		path, err := f.store.Path(ctx, u.driveID, deepest.ID)
		require.NoError(t, err)
		require.Len(t, path, core.MaxDriveDepth)
		_, err = f.svc.CreateFolder(ctx, u.key, "too deep", deepest.ID)
		requireKind(t, err, core.KindInvalid, "parentId")
		// A file may still go in the deepest folder.
		f.upload(t, u.key, deepest.ID, "deep.jpg", []byte("x"))
	})

	t.Run("a_client_gallery_key_is_403", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		_, err := f.svc.CreateFolder(ctx, u.gallery, "Photos", "")
		requireKind(t, err, core.KindForbidden, "")
		l, err := f.svc.List(ctx, u.key, drive.ListQuery{})
		require.NoError(t, err)
		require.Empty(t, l.Folders)
	})
}

func TestItem(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	u, other := f.register(t, ""), f.register(t, "")
	dir := f.folder(t, u.key, "Dir", "")
	file := f.upload(t, u.key, dir.ID, "photo.jpg", []byte("jpeg bytes"))
	gone := f.upload(t, u.key, "", "gone.jpg", []byte("old"))
	f.trash(t, u.key, fileKind, gone.ID)
	theirs := f.folder(t, other.key, "Theirs", "")
	theirFile := f.upload(t, other.key, "", "theirs.jpg", []byte("x"))

	t.Run("a_folder", func(t *testing.T) {
		it, err := f.svc.Item(ctx, u.session, folderKind, dir.ID)
		require.NoError(t, err)
		require.Equal(t, folderKind, it.Kind)
		require.Equal(t, dir, it.Folder)
		require.False(t, it.InAppTree)
	})

	t.Run("a_file_has_a_url_and_a_media_token", func(t *testing.T) {
		it, err := f.svc.Item(ctx, u.key, fileKind, file.ID)
		require.NoError(t, err)
		require.Equal(t, fileKind, it.Kind)
		require.Equal(t, file, it.File.File)
		require.Equal(t, dir.ID, it.File.File.ParentID)
		require.EqualValues(t, len("jpeg bytes"), it.File.File.Size)
		require.NotEmpty(t, it.File.MediaToken)
		require.Equal(t, baseURL+"/api/drive/media?t="+url.QueryEscape(it.File.MediaToken), it.File.URL)
		require.Equal(t, f.clock.Now().Add(drive.DefaultMediaTTL), it.File.Expires)
		c, err := core.VerifyMediaToken(f.key, it.File.MediaToken, f.clock.Now())
		require.NoError(t, err)
		require.Equal(t, file.StorageKey, c.Key)
		require.Equal(t, u.driveID, c.OwnerID)
		require.Equal(t, "photo.jpg", c.Name)
	})

	t.Run("a_trashed_file_has_no_link", func(t *testing.T) {
		it, err := f.svc.Item(ctx, u.key, fileKind, gone.ID)
		require.NoError(t, err)
		require.True(t, it.File.File.Trashed())
		require.Empty(t, it.File.URL)
		require.Empty(t, it.File.MediaToken)
	})

	t.Run("another_accounts_ids_are_404", func(t *testing.T) {
		_, err := f.svc.Item(ctx, u.key, folderKind, theirs.ID)
		requireKind(t, err, core.KindNotFound, "")
		_, err = f.svc.Item(ctx, u.session, fileKind, theirFile.ID)
		requireKind(t, err, core.KindNotFound, "")
	})

	t.Run("unknown_malformed_or_wrong_kind_ids_are_404", func(t *testing.T) {
		for _, c := range []struct {
			kind core.DriveItemKind
			id   string
		}{
			{folderKind, unknownFolder}, {fileKind, unknownFile}, {folderKind, file.ID}, {fileKind, dir.ID},
			{folderKind, ""}, {fileKind, "../x"}, {folderKind, "fld_a b"}, {fileKind, strings.Repeat("f", 65)},
		} {
			_, err := f.svc.Item(ctx, u.key, c.kind, c.id)
			requireKind(t, err, core.KindNotFound, "")
		}
	})

	t.Run("a_client_gallery_key_is_403", func(t *testing.T) {
		_, err := f.svc.Item(ctx, u.gallery, folderKind, dir.ID)
		requireKind(t, err, core.KindForbidden, "")
	})
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("rename", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		d := f.folder(t, u.key, "Old", "")
		file := f.upload(t, u.key, d.ID, "a.jpg", []byte("x"))
		f.clock.Advance(time.Minute)
		it, err := f.svc.Update(ctx, u.session, folderKind, d.ID, drive.Patch{Name: ptr(" New ")})
		require.NoError(t, err)
		require.Equal(t, "New", it.Folder.Name)
		require.Equal(t, "new", it.Folder.NameNormalized)
		require.Equal(t, start.Add(time.Minute), it.Folder.UpdatedAt)
		require.Equal(t, it.Folder, f.getFolder(t, u, d.ID))

		it, err = f.svc.Update(ctx, u.key, fileKind, file.ID, drive.Patch{Name: ptr("b.jpg")})
		require.NoError(t, err)
		require.Equal(t, "b.jpg", it.File.File.Name)
		require.Equal(t, d.ID, it.File.File.ParentID)
		require.NotEmpty(t, it.File.MediaToken, "a file comes back with its link")
		require.Equal(t, "b.jpg", f.getFile(t, u, file.ID).Name)
	})

	t.Run("move", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		a, b := f.folder(t, u.key, "A", ""), f.folder(t, u.key, "B", "")
		file := f.upload(t, u.key, "", "a.jpg", []byte("x"))
		it, err := f.svc.Update(ctx, u.key, folderKind, a.ID, drive.Patch{Move: true, Target: b.ID})
		require.NoError(t, err)
		require.Equal(t, b.ID, it.Folder.ParentID)
		require.Equal(t, "A", it.Folder.Name)
		it, err = f.svc.Update(ctx, u.key, fileKind, file.ID, drive.Patch{Move: true, Target: a.ID})
		require.NoError(t, err)
		require.Equal(t, a.ID, it.File.File.ParentID)
		path, err := f.store.Path(ctx, u.driveID, a.ID)
		require.NoError(t, err)
		require.Equal(t, []string{a.ID, b.ID}, folderIDs(path))
	})

	t.Run("rename_and_move_at_once", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		a, b := f.folder(t, u.key, "A", ""), f.folder(t, u.key, "B", "")
		// "A" is free inside b even though a root sibling has it.
		it, err := f.svc.Update(ctx, u.key, folderKind, f.folder(t, u.key, "C", "").ID, drive.Patch{Name: ptr("A"), Move: true, Target: b.ID})
		require.NoError(t, err)
		require.Equal(t, "A", it.Folder.Name)
		require.Equal(t, b.ID, it.Folder.ParentID)
		require.Equal(t, "A", f.getFolder(t, u, a.ID).Name)
	})

	t.Run("move_to_the_root", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		a := f.folder(t, u.key, "A", "")
		sub := f.folder(t, u.key, "Sub", a.ID)
		file := f.upload(t, u.key, sub.ID, "a.jpg", []byte("x"))
		it, err := f.svc.Update(ctx, u.key, folderKind, sub.ID, drive.Patch{Move: true, Target: ""})
		require.NoError(t, err)
		require.Equal(t, "", it.Folder.ParentID)
		it, err = f.svc.Update(ctx, u.key, fileKind, file.ID, drive.Patch{Move: true})
		require.NoError(t, err)
		require.Equal(t, "", it.File.File.ParentID)
		folders, files := f.listAll(t, u.key, drive.ListQuery{})
		require.Equal(t, []string{a.ID, sub.ID}, folderIDs(folders))
		require.Equal(t, []string{"a.jpg"}, fileNames(files))
	})

	t.Run("moving_a_folder_into_itself_is_400", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		a := f.folder(t, u.key, "A", "")
		_, err := f.svc.Update(ctx, u.key, folderKind, a.ID, drive.Patch{Move: true, Target: a.ID})
		requireKind(t, err, core.KindInvalid, "targetFolderId")
	})

	t.Run("moving_a_folder_into_its_descendant_is_400", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		levels := f.chain(t, u.key, "", 5)
		for _, target := range levels[1:] {
			_, err := f.svc.Update(ctx, u.key, folderKind, levels[0].ID, drive.Patch{Move: true, Target: target.ID})
			requireKind(t, err, core.KindInvalid, "targetFolderId")
		}
		_, err := f.svc.Update(ctx, u.key, folderKind, levels[1].ID, drive.Patch{Name: ptr("x"), Move: true, Target: levels[4].ID})
		requireKind(t, err, core.KindInvalid, "targetFolderId")
		require.Equal(t, "", f.getFolder(t, u, levels[0].ID).ParentID, "nothing moved")
		require.Equal(t, levels[1].Name, f.getFolder(t, u, levels[1].ID).Name)
	})

	t.Run("moving_a_folder_into_its_trashed_descendant_is_400_not_in_trash", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		levels := f.chain(t, u.key, "", 3)
		f.trash(t, u.key, folderKind, levels[2].ID)
		_, err := f.svc.Update(ctx, u.key, folderKind, levels[0].ID, drive.Patch{Move: true, Target: levels[2].ID})
		requireKind(t, err, core.KindInvalid, "targetFolderId")
	})

	t.Run("a_name_clash_is_409_name_taken", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		a, b := f.folder(t, u.key, "Alpha", ""), f.folder(t, u.key, "Beta", "")
		f.folder(t, u.key, "beta", a.ID)
		_, err := f.svc.Update(ctx, u.key, folderKind, a.ID, drive.Patch{Name: ptr("BETA")})
		requireCode(t, err, core.KindConflict, "name_taken")
		_, err = f.svc.Update(ctx, u.key, folderKind, b.ID, drive.Patch{Move: true, Target: a.ID})
		requireCode(t, err, core.KindConflict, "name_taken")

		x := f.upload(t, u.key, "", "x.jpg", []byte("1"))
		f.upload(t, u.key, a.ID, "X.JPG", []byte("2"))
		f.upload(t, u.key, "", "y.jpg", []byte("3"))
		_, err = f.svc.Update(ctx, u.key, fileKind, x.ID, drive.Patch{Move: true, Target: a.ID})
		requireCode(t, err, core.KindConflict, "name_taken")
		_, err = f.svc.Update(ctx, u.key, fileKind, x.ID, drive.Patch{Name: ptr("Y.jpg")})
		requireCode(t, err, core.KindConflict, "name_taken")
		// A folder and a file may share a name.
		_, err = f.svc.Update(ctx, u.key, fileKind, x.ID, drive.Patch{Name: ptr("alpha")})
		require.NoError(t, err)
	})

	t.Run("renaming_case_only_works", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		d := f.folder(t, u.key, "a", "")
		file := f.upload(t, u.key, "", "photo.jpg", []byte("x"))
		it, err := f.svc.Update(ctx, u.key, folderKind, d.ID, drive.Patch{Name: ptr("A")})
		require.NoError(t, err)
		require.Equal(t, "A", it.Folder.Name)
		it, err = f.svc.Update(ctx, u.key, fileKind, file.ID, drive.Patch{Name: ptr("Photo.JPG")})
		require.NoError(t, err)
		require.Equal(t, "Photo.JPG", f.getFile(t, u, file.ID).Name)
		// Moving to where it already is changes nothing and clashes with nothing.
		_, err = f.svc.Update(ctx, u.key, folderKind, d.ID, drive.Patch{Move: true, Target: ""})
		require.NoError(t, err)
	})

	t.Run("moving_into_a_trashed_folder_is_409_in_trash", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		bin := f.folder(t, u.key, "Bin", "")
		inner := f.folder(t, u.key, "Inner", bin.ID)
		a := f.folder(t, u.key, "A", "")
		file := f.upload(t, u.key, "", "a.jpg", []byte("x"))
		f.trash(t, u.key, folderKind, bin.ID)
		for _, target := range []string{bin.ID, inner.ID} {
			_, err := f.svc.Update(ctx, u.key, folderKind, a.ID, drive.Patch{Move: true, Target: target})
			requireCode(t, err, core.KindConflict, "in_trash")
			_, err = f.svc.Update(ctx, u.key, fileKind, file.ID, drive.Patch{Move: true, Target: target})
			requireCode(t, err, core.KindConflict, "in_trash")
		}
	})

	t.Run("an_unknown_target_is_404", func(t *testing.T) {
		f := newFixture(t)
		u, other := f.register(t, ""), f.register(t, "")
		a := f.folder(t, u.key, "A", "")
		theirs := f.folder(t, other.key, "Theirs", "")
		file := f.upload(t, u.key, "", "a.jpg", []byte("x"))
		for _, target := range []string{unknownFolder, theirs.ID, file.ID, "not an id"} {
			_, err := f.svc.Update(ctx, u.key, folderKind, a.ID, drive.Patch{Move: true, Target: target})
			requireKind(t, err, core.KindNotFound, "targetFolderId")
		}
	})

	t.Run("an_unknown_or_foreign_item_is_404", func(t *testing.T) {
		f := newFixture(t)
		u, other := f.register(t, ""), f.register(t, "")
		theirs := f.folder(t, other.key, "Theirs", "")
		for _, id := range []string{unknownFolder, theirs.ID, "x/y"} {
			_, err := f.svc.Update(ctx, u.key, folderKind, id, drive.Patch{Name: ptr("Mine")})
			requireKind(t, err, core.KindNotFound, "")
		}
		require.Equal(t, "Theirs", f.getFolder(t, other, theirs.ID).Name)
	})

	t.Run("a_trashed_item_is_409_in_trash", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		d := f.folder(t, u.key, "D", "")
		sub := f.folder(t, u.key, "Sub", d.ID)
		file := f.upload(t, u.key, "", "a.jpg", []byte("x"))
		f.trash(t, u.key, folderKind, d.ID)
		f.trash(t, u.key, fileKind, file.ID)
		for _, c := range []struct {
			kind core.DriveItemKind
			id   string
		}{{folderKind, d.ID}, {folderKind, sub.ID}, {fileKind, file.ID}} {
			_, err := f.svc.Update(ctx, u.key, c.kind, c.id, drive.Patch{Name: ptr("renamed")})
			requireCode(t, err, core.KindConflict, "in_trash")
			_, err = f.svc.Update(ctx, u.key, c.kind, c.id, drive.Patch{Move: true})
			requireCode(t, err, core.KindConflict, "in_trash")
		}
	})

	t.Run("the_depth_limit_holds_on_move", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		tall := f.chain(t, u.key, "", 60) // height 60
		deep := f.chain(t, u.key, "", 41)
		// 41 + 60 levels is one too many; a trashed subfolder counts too.
		_, err := f.svc.Update(ctx, u.key, folderKind, tall[0].ID, drive.Patch{Move: true, Target: deep[40].ID})
		requireKind(t, err, core.KindInvalid, "targetFolderId")
		_, err = f.svc.Update(ctx, u.key, folderKind, tall[0].ID, drive.Patch{Move: true, Target: deep[39].ID})
		require.NoError(t, err, "40 + 60 levels fit")
		path, err := f.store.Path(ctx, u.driveID, tall[59].ID)
		require.NoError(t, err)
		require.Len(t, path, core.MaxDriveDepth)

		other := f.chain(t, u.key, "", 2)
		f.trash(t, u.key, folderKind, other[1].ID)
		_, err = f.svc.Update(ctx, u.key, folderKind, other[0].ID, drive.Patch{Move: true, Target: tall[58].ID})
		requireKind(t, err, core.KindInvalid, "targetFolderId")
		// A file may go in the deepest folder.
		file := f.upload(t, u.key, "", "a.jpg", []byte("x"))
		_, err = f.svc.Update(ctx, u.key, fileKind, file.ID, drive.Patch{Move: true, Target: tall[59].ID})
		require.NoError(t, err)
	})

	t.Run("nothing_given_is_400", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		d := f.folder(t, u.key, "D", "")
		_, err := f.svc.Update(ctx, u.key, folderKind, d.ID, drive.Patch{})
		requireKind(t, err, core.KindInvalid, "")
		for _, bad := range []string{"", "..", "a/b", "a\x00"} {
			_, err = f.svc.Update(ctx, u.key, folderKind, d.ID, drive.Patch{Name: ptr(bad)})
			requireKind(t, err, core.KindInvalid, "name")
		}
	})

	t.Run("a_client_gallery_key_is_403", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		d := f.folder(t, u.key, "D", "")
		_, err := f.svc.Update(ctx, u.gallery, folderKind, d.ID, drive.Patch{Name: ptr("E")})
		requireKind(t, err, core.KindForbidden, "")
	})
}
