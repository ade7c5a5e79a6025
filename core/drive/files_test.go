package drive_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/drive"
	"github.com/gellhub/gellhub/core/uploads"
	"github.com/gellhub/gellhub/ports"
)

func TestUploads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("presign_and_complete_into_the_root_and_a_folder", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		d := f.folder(t, u.key, "D", "")
		root := f.presigned(t, u.key, drive.UploadTarget{}, "a.jpg", []byte("root bytes"))
		require.True(t, strings.HasPrefix(root.File.ID, "file_"), root.File.ID)
		require.Equal(t, "", root.File.ParentID)
		require.Equal(t, "a.jpg", root.File.Name)
		require.Equal(t, "image/jpeg", root.File.ContentType)
		require.EqualValues(t, 10, root.File.Size)
		require.NotEmpty(t, root.File.ETag)
		require.True(t, strings.HasPrefix(root.File.StorageKey, "drive/"+u.driveID+"/"), root.File.StorageKey)
		require.NotEmpty(t, root.MediaToken)
		require.Equal(t, root.File, f.getFile(t, u, root.File.ID))

		in := f.presigned(t, u.session, drive.UploadTarget{FolderID: d.ID}, "a.jpg", []byte("folder"))
		require.Equal(t, d.ID, in.File.ParentID)
		require.Equal(t, "a.jpg", in.File.Name, "another folder: no clash")
		require.Equal(t, core.Usage{UsedBytes: 16}, f.usage(t, u))
	})

	t.Run("completing_twice_records_the_file_once", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		in := uploads.FileInput{FileName: "a.jpg", ContentType: "image/jpeg", SizeBytes: 5}
		p, err := f.svc.Presign(ctx, u.key, drive.UploadTarget{}, in)
		require.NoError(t, err)
		require.Equal(t, core.Usage{ReservedBytes: 5}, f.usage(t, u))
		require.NoError(t, f.blobs.Upload(p.Put.URL, "image/jpeg", []byte("abcde")))
		first, err := f.svc.Complete(ctx, u.key, drive.UploadTarget{}, p.StorageKey, in)
		require.NoError(t, err)
		again, err := f.svc.Complete(ctx, u.key, drive.UploadTarget{}, p.StorageKey, in)
		require.NoError(t, err)
		require.Equal(t, first.File, again.File)
		require.Equal(t, core.Usage{UsedBytes: 5}, f.usage(t, u))
		_, files := f.listAll(t, u.key, drive.ListQuery{})
		require.Len(t, files, 1)
	})

	t.Run("a_name_clash_gets_a_number", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		d := f.folder(t, u.key, "D", "")
		var names []string
		for _, name := range []string{"photo.jpg", "photo.jpg", "PHOTO.JPG", "photo (1).jpg"} {
			names = append(names, f.upload(t, u.key, d.ID, name, []byte("x")).Name)
		}
		names = append(names, f.presigned(t, u.key, drive.UploadTarget{FolderID: d.ID}, "photo.jpg", []byte("x")).File.Name)
		require.Equal(t, []string{"photo.jpg", "photo (1).jpg", "PHOTO (2).JPG", "photo (1) (1).jpg", "photo (3).jpg"}, names)
		// A folder of the same name is no clash.
		f.folder(t, u.key, "notes", d.ID)
		require.Equal(t, "notes", f.upload(t, u.key, d.ID, "notes", []byte("x")).Name)
	})

	t.Run("the_quota_is_enforced", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, f.drivePlan(t, 100))
		_, err := f.svc.Presign(ctx, u.key, drive.UploadTarget{}, uploads.FileInput{FileName: "a.jpg", ContentType: "image/jpeg", SizeBytes: 101})
		requireKind(t, err, core.KindQuotaExceeded, "")
		_, err = f.uploadTo(u.key, drive.UploadTarget{}, "a.jpg", make([]byte, 101))
		requireKind(t, err, core.KindQuotaExceeded, "")
		require.Equal(t, core.Usage{}, f.usage(t, u))

		x := f.upload(t, u.key, "", "a.jpg", make([]byte, 60))
		f.trash(t, u.key, fileKind, x.ID)
		_, err = f.uploadTo(u.key, drive.UploadTarget{}, "b.jpg", make([]byte, 41))
		requireKind(t, err, core.KindQuotaExceeded, "")
		require.NoError(t, f.svc.Delete(ctx, u.key, drive.Selection{FileIDs: []string{x.ID}}))
		f.upload(t, u.key, "", "b.jpg", make([]byte, 100))
		require.Equal(t, core.Usage{UsedBytes: 100}, f.usage(t, u))
		_, err = f.blobs.Head(ctx, x.StorageKey)
		require.NoError(t, err, "the deleted object waits for the worker")
	})

	t.Run("a_proxy_upload_into_a_folder", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		d := f.folder(t, u.key, "D", "")
		body := bytes.Repeat([]byte("drive"), 1000)
		v, err := f.uploadTo(u.session, drive.UploadTarget{FolderID: d.ID}, "dir/../evil\x00name.jpg", body)
		require.NoError(t, err)
		require.Equal(t, d.ID, v.File.ParentID)
		require.Equal(t, "evilname.jpg", v.File.Name)
		require.EqualValues(t, len(body), v.File.Size)
		rc, _, err := f.blobs.Get(ctx, v.File.StorageKey, nil)
		require.NoError(t, err)
		got, err := io.ReadAll(rc)
		require.NoError(t, rc.Close())
		require.NoError(t, err)
		require.Equal(t, body, got)
		require.Equal(t, core.Usage{UsedBytes: int64(len(body))}, f.usage(t, u))
	})

	t.Run("an_unknown_or_trashed_folder_stores_nothing", func(t *testing.T) {
		f := newFixture(t)
		u, other := f.register(t, ""), f.register(t, "")
		bin := f.folder(t, u.key, "Bin", "")
		f.trash(t, u.key, folderKind, bin.ID)
		theirs := f.folder(t, other.key, "Theirs", "")
		in := uploads.FileInput{FileName: "a.jpg", ContentType: "image/jpeg", SizeBytes: 3}
		for _, id := range []string{unknownFolder, theirs.ID, "../x"} {
			_, err := f.svc.Presign(ctx, u.key, drive.UploadTarget{FolderID: id}, in)
			requireKind(t, err, core.KindNotFound, "folderId")
			_, err = f.uploadTo(u.key, drive.UploadTarget{FolderID: id}, "a.jpg", []byte("abc"))
			requireKind(t, err, core.KindNotFound, "folderId")
		}
		_, err := f.svc.Presign(ctx, u.key, drive.UploadTarget{FolderID: bin.ID}, in)
		requireCode(t, err, core.KindConflict, "in_trash")
		_, err = f.uploadTo(u.key, drive.UploadTarget{FolderID: bin.ID}, "a.jpg", []byte("abc"))
		requireCode(t, err, core.KindConflict, "in_trash")
		require.Equal(t, core.Usage{}, f.usage(t, u))

		// A folder trashed between presign and complete.
		d := f.folder(t, u.key, "D", "")
		p, err := f.svc.Presign(ctx, u.key, drive.UploadTarget{FolderID: d.ID}, in)
		require.NoError(t, err)
		require.NoError(t, f.blobs.Upload(p.Put.URL, "image/jpeg", []byte("abc")))
		f.trash(t, u.key, folderKind, d.ID)
		_, err = f.svc.Complete(ctx, u.key, drive.UploadTarget{FolderID: d.ID}, p.StorageKey, in)
		requireCode(t, err, core.KindConflict, "in_trash")
		require.EqualValues(t, 0, f.usage(t, u).UsedBytes)
		_, err = f.store.FileByKey(ctx, u.driveID, p.StorageKey)
		requireKind(t, err, core.KindNotFound, "")
	})

	t.Run("complete_checks_the_storage_key", func(t *testing.T) {
		f := newFixture(t)
		u, other := f.register(t, ""), f.register(t, "")
		in := uploads.FileInput{FileName: "a.jpg", ContentType: "image/jpeg", SizeBytes: 3}
		p, err := f.svc.Presign(ctx, other.key, drive.UploadTarget{}, in)
		require.NoError(t, err)
		_, err = f.svc.Complete(ctx, u.key, drive.UploadTarget{}, p.StorageKey, in)
		requireKind(t, err, core.KindForbidden, "")
		_, err = f.svc.Complete(ctx, u.key, drive.UploadTarget{}, "", in)
		requireKind(t, err, core.KindInvalid, "storageKey")
		_, err = f.svc.Complete(ctx, u.key, drive.UploadTarget{}, "drive/"+u.driveID+"/../"+other.driveID+"/x", in)
		requireKind(t, err, core.KindForbidden, "")
	})

	t.Run("a_client_gallery_key_is_403", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		_, err := f.svc.Presign(ctx, u.gallery, drive.UploadTarget{}, uploads.FileInput{FileName: "a.jpg", ContentType: "image/jpeg", SizeBytes: 3})
		requireKind(t, err, core.KindForbidden, "")
		_, err = f.uploadTo(u.gallery, drive.UploadTarget{}, "a.jpg", []byte("abc"))
		requireKind(t, err, core.KindForbidden, "")
	})
}

func TestList(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("folders_first_then_files_by_name", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		for _, name := range []string{"b", "A", "c"} {
			f.folder(t, u.key, name, "")
		}
		for _, name := range []string{"B.jpg", "a.jpg", "C.jpg"} {
			f.upload(t, u.key, "", name, []byte("x"))
		}
		l, err := f.svc.List(ctx, u.key, drive.ListQuery{})
		require.NoError(t, err)
		var names []string
		for _, d := range l.Folders {
			names = append(names, d.Name)
		}
		require.Equal(t, []string{"A", "b", "c"}, names)
		require.Equal(t, []string{"a.jpg", "B.jpg", "C.jpg"}, fileNames(l.Files))
		require.Empty(t, l.Next)
		for _, v := range l.Files {
			require.NotEmpty(t, v.MediaToken)
			require.True(t, strings.HasPrefix(v.URL, baseURL+"/api/drive/media?t="))
		}
	})

	t.Run("pages_cross_the_folder_file_boundary", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		d := f.folder(t, u.key, "D", "")
		for i := range 7 {
			f.folder(t, u.key, fmt.Sprintf("Folder %02d", 7-i), d.ID)
		}
		for i := range 8 {
			f.upload(t, u.key, d.ID, fmt.Sprintf("file %02d.jpg", i), []byte("x"))
		}
		allFolders, allFiles := f.listAll(t, u.key, drive.ListQuery{ParentID: d.ID, Limit: drive.MaxPage})
		require.Len(t, allFolders, 7)
		require.Len(t, allFiles, 8)
		want := folderIDs(allFolders)
		for _, v := range allFiles {
			want = append(want, v.File.ID)
		}
		for limit := 1; limit <= 16; limit++ {
			var got []string
			q := drive.ListQuery{ParentID: d.ID, Limit: limit}
			for pages := 0; ; pages++ {
				require.Less(t, pages, 20)
				l, err := f.svc.List(ctx, u.key, q)
				require.NoError(t, err)
				require.LessOrEqual(t, len(l.Folders)+len(l.Files), limit)
				got = append(got, folderIDs(l.Folders)...)
				for _, v := range l.Files {
					got = append(got, v.File.ID)
				}
				if l.Next == "" {
					break
				}
				q.Cursor = l.Next
			}
			require.Equal(t, want, got, "limit %d", limit)
		}
	})

	t.Run("bad_cursors_are_400", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		enc := base64.RawURLEncoding.EncodeToString
		for _, c := range []string{
			"!!!", "====", enc([]byte("garbage")), enc([]byte("folder\x00name\x00bad id")),
			enc([]byte("thing\x00name\x00" + unknownFolder)), enc([]byte("file\x00name")),
			strings.Repeat("A", 3000),
		} {
			_, err := f.svc.List(ctx, u.key, drive.ListQuery{Cursor: c})
			requireKind(t, err, core.KindInvalid, "cursor")
		}
	})

	t.Run("limit_bounds", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		for range 3 {
			f.folder(t, u.key, "f"+fmt.Sprint(time.Now().UnixNano()), "")
		}
		for _, n := range []int{-1, drive.MaxPage + 1} {
			_, err := f.svc.List(ctx, u.key, drive.ListQuery{Limit: n})
			requireKind(t, err, core.KindInvalid, "limit")
		}
		for _, n := range []int{0, 1, drive.MaxPage} {
			l, err := f.svc.List(ctx, u.key, drive.ListQuery{Limit: n})
			require.NoError(t, err)
			limit := n
			if limit == 0 {
				limit = drive.DefaultPage
			}
			require.Len(t, l.Folders, min(limit, 3))
		}
		l, err := f.svc.List(ctx, u.key, drive.ListQuery{Limit: 2})
		require.NoError(t, err)
		require.Len(t, l.Folders, 2)
		require.NotEmpty(t, l.Next)
	})

	t.Run("an_unknown_or_trashed_folder", func(t *testing.T) {
		f := newFixture(t)
		u, other := f.register(t, ""), f.register(t, "")
		d := f.folder(t, u.key, "D", "")
		sub := f.folder(t, u.key, "Sub", d.ID)
		theirs := f.folder(t, other.key, "Theirs", "")
		f.trash(t, u.key, folderKind, d.ID)
		for _, id := range []string{d.ID, sub.ID} {
			_, err := f.svc.List(ctx, u.key, drive.ListQuery{ParentID: id})
			requireCode(t, err, core.KindConflict, "in_trash")
		}
		for _, id := range []string{unknownFolder, theirs.ID, "x/y"} {
			_, err := f.svc.List(ctx, u.key, drive.ListQuery{ParentID: id})
			requireKind(t, err, core.KindNotFound, "")
		}
		_, err := f.svc.List(ctx, u.gallery, drive.ListQuery{})
		requireKind(t, err, core.KindForbidden, "")
	})
}

func TestMedia(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	u := f.register(t, "")
	body := []byte("0123456789 media bytes")
	file := f.upload(t, u.key, "", "clip.jpg", body)
	it, err := f.svc.Item(ctx, u.key, fileKind, file.ID)
	require.NoError(t, err)
	token := it.File.MediaToken

	t.Run("a_token_from_item_or_list_opens_the_bytes", func(t *testing.T) {
		l, err := f.svc.List(ctx, u.session, drive.ListQuery{})
		require.NoError(t, err)
		require.Len(t, l.Files, 1)
		for _, tok := range []string{token, l.Files[0].MediaToken} {
			rc, info, c, err := f.svc.OpenMedia(ctx, tok, nil)
			require.NoError(t, err)
			got, err := io.ReadAll(rc)
			require.NoError(t, rc.Close())
			require.NoError(t, err)
			require.Equal(t, body, got)
			require.EqualValues(t, len(body), info.Size)
			require.Equal(t, "clip.jpg", c.Name)
		}
		rc, _, _, err := f.svc.OpenMedia(ctx, token, &ports.ByteRange{Start: 2, End: 5})
		require.NoError(t, err)
		got, err := io.ReadAll(rc)
		require.NoError(t, rc.Close())
		require.NoError(t, err)
		require.Equal(t, "2345", string(got))
		info, _, err := f.svc.StatMedia(ctx, token)
		require.NoError(t, err)
		require.Equal(t, file.ETag, info.ETag)
	})

	t.Run("a_gallery_or_forged_token_is_refused", func(t *testing.T) {
		for _, claims := range []core.MediaClaims{
			{Key: "clientGallery/studio_X/up_X/a.jpg", OwnerID: "studio_X"},
			{Key: file.StorageKey, OwnerID: "studio_X"},
			{Key: "drive/drive_other/up_X/a.jpg", OwnerID: u.driveID},
		} {
			claims.Name, claims.ContentType, claims.Expires = "a.jpg", "image/jpeg", f.clock.Now().Add(time.Hour)
			tok, err := core.SignMediaToken(f.key, claims)
			require.NoError(t, err)
			_, _, _, err = f.svc.OpenMedia(ctx, tok, nil)
			requireKind(t, err, core.KindForbidden, "")
		}
		for _, tok := range []string{"", "x.y", token + "x", strings.Repeat("a", 5000)} {
			_, _, _, err := f.svc.OpenMedia(ctx, tok, nil)
			requireKind(t, err, core.KindForbidden, "")
		}
	})

	t.Run("an_expired_token_is_403", func(t *testing.T) {
		g := newFixture(t)
		v := g.register(t, "")
		x := g.upload(t, v.key, "", "x.jpg", []byte("x"))
		it, err := g.svc.Item(ctx, v.key, fileKind, x.ID)
		require.NoError(t, err)
		g.clock.Advance(drive.DefaultMediaTTL + time.Second)
		_, _, _, err = g.svc.OpenMedia(ctx, it.File.MediaToken, nil)
		requireKind(t, err, core.KindForbidden, "")
		_, _, err = g.svc.StatMedia(ctx, it.File.MediaToken)
		requireKind(t, err, core.KindForbidden, "")
	})

	t.Run("a_trashed_or_deleted_file_is_404", func(t *testing.T) {
		g := newFixture(t)
		v := g.register(t, "")
		x := g.upload(t, v.key, "", "x.jpg", []byte("x"))
		it, err := g.svc.Item(ctx, v.key, fileKind, x.ID)
		require.NoError(t, err)
		g.trash(t, v.key, fileKind, x.ID)
		_, _, _, err = g.svc.OpenMedia(ctx, it.File.MediaToken, nil)
		requireKind(t, err, core.KindNotFound, "")
		_, _, err = g.svc.StatMedia(ctx, it.File.MediaToken)
		requireKind(t, err, core.KindNotFound, "")
		require.NoError(t, g.svc.Delete(ctx, v.key, drive.Selection{FileIDs: []string{x.ID}}))
		_, _, _, err = g.svc.OpenMedia(ctx, it.File.MediaToken, nil)
		requireKind(t, err, core.KindNotFound, "")
	})
}
