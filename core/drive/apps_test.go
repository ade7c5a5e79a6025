package drive_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/drive"
	"github.com/gellhub/gellhub/core/uploads"
)

// appSetup is an account linked to a Drive partner app.
type appSetup struct {
	f   *fixture
	u   user
	app core.PartnerApp
	via drive.UploadTarget // the app's client id, no folder
}

func newAppSetup(t *testing.T) appSetup {
	t.Helper()
	f := newFixture(t)
	dev, u := f.register(t, ""), f.register(t, "")
	a := f.app(t, dev, "Acme Sync")
	f.link(t, u, a)
	return appSetup{f: f, u: u, app: a, via: drive.UploadTarget{IntegrationClientID: a.ClientID}}
}

// appUpload uploads through the app into its folder and returns the file
// and the app folder.
func (s appSetup) appUpload(t *testing.T, name string) (core.DriveFile, core.DriveFolder) {
	t.Helper()
	v, err := s.f.uploadTo(s.u.key, s.via, name, []byte("app bytes"))
	require.NoError(t, err)
	return v.File, s.f.getFolder(t, s.u, v.File.ParentID)
}

func TestPartnerAppFolders(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("uploads_land_in_a_top_level_folder_named_after_the_app", func(t *testing.T) {
		s := newAppSetup(t)
		f, u := s.f, s.u
		file, dir := s.appUpload(t, "a.jpg")
		require.Equal(t, "Acme Sync", dir.Name)
		require.Equal(t, s.app.ID, dir.AppID)
		require.Equal(t, "", dir.ParentID)

		// The folder is made once and reused, by either upload route.
		second := f.presigned(t, u.key, s.via, "b.jpg", []byte("more"))
		require.Equal(t, dir.ID, second.File.ParentID)
		third, _ := s.appUpload(t, "a.jpg")
		require.Equal(t, dir.ID, third.ParentID)
		require.Equal(t, "a (1).jpg", third.Name)
		folders, _ := f.listAll(t, u.key, drive.ListQuery{})
		require.Equal(t, []string{dir.ID}, folderIDs(folders))

		it, err := f.svc.Item(ctx, u.session, fileKind, file.ID)
		require.NoError(t, err)
		require.True(t, it.InAppTree)
		it, err = f.svc.Item(ctx, u.session, folderKind, dir.ID)
		require.NoError(t, err)
		require.True(t, it.InAppTree)
	})

	t.Run("a_folder_inside_the_app_folder", func(t *testing.T) {
		s := newAppSetup(t)
		f, u := s.f, s.u
		_, dir := s.appUpload(t, "a.jpg")
		sub := f.folder(t, u.key, "Sub", dir.ID)
		v, err := f.uploadTo(u.key, drive.UploadTarget{FolderID: sub.ID, IntegrationClientID: s.app.ClientID}, "b.jpg", []byte("x"))
		require.NoError(t, err)
		require.Equal(t, sub.ID, v.File.ParentID)
		// The key may also upload there without the client id.
		f.upload(t, u.key, sub.ID, "c.jpg", []byte("x"))
	})

	t.Run("a_folder_outside_the_app_folder_is_400", func(t *testing.T) {
		s := newAppSetup(t)
		f, u := s.f, s.u
		mine := f.folder(t, u.key, "Mine", "")
		target := drive.UploadTarget{FolderID: mine.ID, IntegrationClientID: s.app.ClientID}
		_, err := f.uploadTo(u.key, target, "a.jpg", []byte("x"))
		requireKind(t, err, core.KindInvalid, "folderId")
		s.appUpload(t, "a.jpg")
		_, err = f.uploadTo(u.key, target, "a.jpg", []byte("x"))
		requireKind(t, err, core.KindInvalid, "folderId")
		_, err = f.svc.Presign(ctx, u.key, target, uploads.FileInput{FileName: "a.jpg", ContentType: "image/jpeg", SizeBytes: 1})
		requireKind(t, err, core.KindInvalid, "folderId")
		require.Equal(t, core.Usage{UsedBytes: 9}, f.usage(t, u))
	})

	t.Run("an_unlinked_suspended_other_line_or_unknown_app_is_403", func(t *testing.T) {
		s := newAppSetup(t)
		f, u := s.f, s.u
		stranger := f.app(t, f.register(t, ""), "Stranger")
		suspended := f.app(t, u, "Suspended")
		f.link(t, u, suspended)
		_, err := f.store.UpdateApp(ctx, suspended.ID, func(a *core.PartnerApp) error {
			a.Status = core.AppSuspended
			return nil
		})
		require.NoError(t, err)
		revoked := f.app(t, u, "Revoked")
		l := f.link(t, u, revoked)
		require.NoError(t, f.store.RevokeLink(ctx, u.profileID, l.ID, f.clock.Now()))

		galleryApp := f.app(t, u, "Gallery App")
		_, err = f.store.UpdateApp(ctx, galleryApp.ID, func(a *core.PartnerApp) error {
			a.Line = core.LineClientGallery // linked, but an app of another product line
			return nil
		})
		require.NoError(t, err)
		f.link(t, u, galleryApp)

		for _, clientID := range []string{stranger.ClientID, suspended.ClientID, revoked.ClientID, galleryApp.ClientID, "gh_app_000000000000000000000000", "bad id!"} {
			target := drive.UploadTarget{IntegrationClientID: clientID}
			_, err := f.uploadTo(u.key, target, "a.jpg", []byte("x"))
			requireKind(t, err, core.KindForbidden, "integrationClientId")
			_, err = f.svc.Presign(ctx, u.key, target, uploads.FileInput{FileName: "a.jpg", ContentType: "image/jpeg", SizeBytes: 1})
			requireKind(t, err, core.KindForbidden, "integrationClientId")
		}
		require.Equal(t, core.Usage{}, f.usage(t, u))
		folders, _ := f.listAll(t, u.key, drive.ListQuery{})
		require.Empty(t, folders)
	})

	t.Run("a_session_with_a_client_id_is_403", func(t *testing.T) {
		s := newAppSetup(t)
		_, err := s.f.uploadTo(s.u.session, s.via, "a.jpg", []byte("x"))
		requireCode(t, err, core.KindForbidden, "app_folder_read_only")
		_, err = s.f.svc.Presign(ctx, s.u.session, s.via, uploads.FileInput{FileName: "a.jpg", ContentType: "image/jpeg", SizeBytes: 1})
		requireCode(t, err, core.KindForbidden, "app_folder_read_only")
	})

	t.Run("sessions_read_but_do_not_change_the_app_tree", func(t *testing.T) {
		s := newAppSetup(t)
		f, u := s.f, s.u
		file, dir := s.appUpload(t, "a.jpg")
		sub := f.folder(t, u.key, "Sub", dir.ID)
		gone, _ := s.appUpload(t, "gone.jpg")
		f.trash(t, u.key, fileKind, gone.ID)
		_, files := f.listAll(t, u.session, drive.ListQuery{ParentID: dir.ID})
		require.Equal(t, []string{"a.jpg"}, fileNames(files), "a session lists the app's folder")

		readOnly := func(err error) {
			t.Helper()
			requireCode(t, err, core.KindForbidden, "app_folder_read_only")
		}
		_, err := f.svc.CreateFolder(ctx, u.session, "New", dir.ID)
		readOnly(err)
		_, err = f.svc.CreateFolder(ctx, u.session, "New", sub.ID)
		readOnly(err)
		for _, c := range []struct {
			kind core.DriveItemKind
			id   string
		}{{folderKind, dir.ID}, {folderKind, sub.ID}, {fileKind, file.ID}} {
			_, err = f.svc.Update(ctx, u.session, c.kind, c.id, drive.Patch{Name: ptr("renamed")})
			readOnly(err)
			_, err = f.svc.Update(ctx, u.session, c.kind, c.id, drive.Patch{Move: true})
			readOnly(err)
			readOnly(f.svc.Trash(ctx, u.session, c.kind, c.id))
		}
		_, err = f.uploadTo(u.session, drive.UploadTarget{FolderID: dir.ID}, "b.jpg", []byte("x"))
		readOnly(err)
		readOnly(f.svc.Restore(ctx, u.session, drive.Selection{FileIDs: []string{gone.ID}}))
		readOnly(f.svc.Delete(ctx, u.session, drive.Selection{FileIDs: []string{gone.ID}}))

		// The key may do all of it.
		_, err = f.svc.CreateFolder(ctx, u.key, "New", sub.ID)
		require.NoError(t, err)
		_, err = f.svc.Update(ctx, u.key, fileKind, file.ID, drive.Patch{Name: ptr("renamed.jpg"), Move: true, Target: sub.ID})
		require.NoError(t, err)
		_, err = f.svc.Update(ctx, u.key, folderKind, sub.ID, drive.Patch{Name: ptr("Renamed")})
		require.NoError(t, err)
		require.NoError(t, f.svc.Restore(ctx, u.key, drive.Selection{FileIDs: []string{gone.ID}}))
		f.trash(t, u.key, fileKind, gone.ID)
		require.NoError(t, f.svc.Delete(ctx, u.key, drive.Selection{FileIDs: []string{gone.ID}}))
		f.trash(t, u.key, folderKind, sub.ID)
		require.NoError(t, f.svc.Restore(ctx, u.key, drive.Selection{FolderIDs: []string{sub.ID}}))
		f.upload(t, u.key, dir.ID, "b.jpg", []byte("x"))
	})

	t.Run("moving_an_ordinary_item_into_the_app_tree_with_a_session_is_403", func(t *testing.T) {
		s := newAppSetup(t)
		f, u := s.f, s.u
		_, dir := s.appUpload(t, "a.jpg")
		mine := f.folder(t, u.key, "Mine", "")
		x := f.upload(t, u.key, "", "x.jpg", []byte("x"))
		for _, c := range []struct {
			kind core.DriveItemKind
			id   string
		}{{folderKind, mine.ID}, {fileKind, x.ID}} {
			_, err := f.svc.Update(ctx, u.session, c.kind, c.id, drive.Patch{Move: true, Target: dir.ID})
			requireCode(t, err, core.KindForbidden, "app_folder_read_only")
			it, err := f.svc.Update(ctx, u.key, c.kind, c.id, drive.Patch{Move: true, Target: dir.ID})
			require.NoError(t, err)
			require.True(t, it.InAppTree)
		}
		// Moving the app's folder itself is the key's call too.
		_, err := f.svc.Update(ctx, u.session, folderKind, dir.ID, drive.Patch{Move: true, Target: f.folder(t, u.key, "Other", "").ID})
		requireCode(t, err, core.KindForbidden, "app_folder_read_only")
	})

	t.Run("the_app_folder_stays_at_the_top_level", func(t *testing.T) {
		// Inside an ordinary folder, a session trashing and deleting that
		// folder would take the app's read-only tree along.
		s := newAppSetup(t)
		f, u := s.f, s.u
		file, dir := s.appUpload(t, "a.jpg")
		mine := f.folder(t, u.key, "Mine", "")
		sub := f.folder(t, u.key, "Sub", dir.ID)
		for _, target := range []string{mine.ID, sub.ID} {
			_, err := f.svc.Update(ctx, u.key, folderKind, dir.ID, drive.Patch{Move: true, Target: target})
			requireKind(t, err, core.KindInvalid, "targetFolderId")
		}
		it, err := f.svc.Update(ctx, u.key, folderKind, dir.ID, drive.Patch{Name: ptr("Acme"), Move: true, Target: ""})
		require.NoError(t, err, "the key may rename it at the top level")
		require.Equal(t, s.app.ID, it.Folder.AppID)
		f.trash(t, u.session, folderKind, mine.ID)
		require.NoError(t, f.svc.Delete(ctx, u.session, drive.Selection{FolderIDs: []string{mine.ID}}))
		require.False(t, f.getFile(t, u, file.ID).Trashed())
		// A subfolder of the app's tree is the key's to move anywhere.
		_, err = f.svc.Update(ctx, u.key, folderKind, sub.ID, drive.Patch{Move: true, Target: ""})
		require.NoError(t, err)
	})

	t.Run("listings_hide_app_folders_from_sessions", func(t *testing.T) {
		s := newAppSetup(t)
		f, u := s.f, s.u
		_, dir := s.appUpload(t, "a.jpg")
		mine := f.folder(t, u.key, "Mine", "")
		folders, _ := f.listAll(t, u.session, drive.ListQuery{})
		require.Equal(t, []string{mine.ID}, folderIDs(folders))
		folders, _ = f.listAll(t, u.session, drive.ListQuery{IncludeAppFolders: true})
		require.ElementsMatch(t, []string{mine.ID, dir.ID}, folderIDs(folders))
		for _, q := range []drive.ListQuery{{}, {IncludeAppFolders: true}} {
			folders, _ = f.listAll(t, u.key, q)
			require.ElementsMatch(t, []string{mine.ID, dir.ID}, folderIDs(folders), "keys always see app folders")
		}
	})

	t.Run("the_app_folder_name_may_clash_or_be_unusable", func(t *testing.T) {
		s := newAppSetup(t)
		f, u := s.f, s.u
		f.folder(t, u.key, "acme sync", "")
		_, dir := s.appUpload(t, "a.jpg")
		require.Equal(t, "Acme Sync (1)", dir.Name)

		odd := f.app(t, u, "Sync/Backup")
		f.link(t, u, odd)
		v, err := f.uploadTo(u.key, drive.UploadTarget{IntegrationClientID: odd.ClientID}, "a.jpg", []byte("x"))
		require.NoError(t, err)
		oddDir := f.getFolder(t, u, v.File.ParentID)
		require.Equal(t, "App "+odd.ID, oddDir.Name)
		require.Equal(t, odd.ID, oddDir.AppID)
	})

	t.Run("a_trashed_app_folder_is_replaced_and_comes_back_ordinary", func(t *testing.T) {
		s := newAppSetup(t)
		f, u := s.f, s.u
		first, old := s.appUpload(t, "a.jpg")
		f.trash(t, u.key, folderKind, old.ID)
		_, fresh := s.appUpload(t, "b.jpg")
		require.NotEqual(t, old.ID, fresh.ID)
		require.Equal(t, "Acme Sync", fresh.Name)
		require.Equal(t, s.app.ID, fresh.AppID)

		require.NoError(t, f.svc.Restore(ctx, u.key, drive.Selection{FolderIDs: []string{old.ID}}))
		back := f.getFolder(t, u, old.ID)
		require.Equal(t, "Acme Sync (1)", back.Name)
		require.Empty(t, back.AppID, "one live folder per app")
		require.False(t, f.getFile(t, u, first.ID).Trashed())
		// Now an ordinary folder: the session may change it.
		_, err := f.svc.Update(ctx, u.session, folderKind, old.ID, drive.Patch{Name: ptr("Old sync")})
		require.NoError(t, err)
		third, _ := s.appUpload(t, "c.jpg")
		require.Equal(t, fresh.ID, third.ParentID)
	})

	t.Run("a_restored_app_folder_stays_the_apps_when_none_replaced_it", func(t *testing.T) {
		s := newAppSetup(t)
		f, u := s.f, s.u
		_, dir := s.appUpload(t, "a.jpg")
		f.trash(t, u.key, folderKind, dir.ID)
		require.NoError(t, f.svc.Restore(ctx, u.key, drive.Selection{FolderIDs: []string{dir.ID}}))
		require.Equal(t, s.app.ID, f.getFolder(t, u, dir.ID).AppID)
		again, _ := s.appUpload(t, "b.jpg")
		require.Equal(t, dir.ID, again.ParentID)
	})
}
