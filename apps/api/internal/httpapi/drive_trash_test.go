package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
)

// trashItem sends an item to the recycle bin.
func (s *testServer) trashItem(auth reqOpt, kind core.DriveItemKind, id string) {
	s.t.Helper()
	r := s.do("DELETE", itemURL(kind, id), nil, auth)
	require.Equal(s.t, http.StatusNoContent, r.status, "body: %s", r.body)
}

// driveItem reads GET /api/drive/items/{id}; it must succeed.
func (s *testServer) driveItem(auth reqOpt, kind core.DriveItemKind, id string) map[string]any {
	s.t.Helper()
	r := s.do("GET", itemURL(kind, id), nil, auth)
	require.Equal(s.t, http.StatusOK, r.status, "body: %s", r.body)
	return r.json(s.t)
}

// selection is a restore or permanent delete body.
func selection(fileIDs, folderIDs []string) map[string]any {
	if fileIDs == nil {
		fileIDs = []string{}
	}
	if folderIDs == nil {
		folderIDs = []string{}
	}
	return map[string]any{"fileIds": fileIDs, "folderIds": folderIDs}
}

func parseTime(t testing.TB, v any) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, v.(string))
	require.NoError(t, err)
	return at
}

// requireGone asserts the item is no longer there.
func (s *testServer) requireGone(auth reqOpt, kind core.DriveItemKind, id string) {
	s.t.Helper()
	s.do("GET", itemURL(kind, id), nil, auth).requireError(s.t, http.StatusNotFound, "not_found", "")
}

func TestDriveTrash(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		s := newTestServer(t, backend, options{})
		a := s.register(uniqueEmail("trash"))
		key := withKey(a.driveKey)
		ctx := context.Background()

		A := s.mkFolder(key, "Albums", "")["id"].(string)
		B := s.mkFolder(key, "Beach", A)["id"].(string)
		f1 := s.mustDriveUpload(B, "wave.jpg", []byte(strings.Repeat("w", 100)), key)
		f2 := s.mustDriveUpload(A, "notes.txt", []byte(strings.Repeat("n", 50)), key)
		r1 := s.mustDriveUpload("", "readme.md", []byte(strings.Repeat("r", 20)), key)
		f1ID, f2ID, r1ID := f1["id"].(string), f2["id"].(string), r1["id"].(string)
		f1Media := driveMediaPath(t, f1)
		require.EqualValues(t, 170, s.driveUsed(key))

		// Soft delete: the folder takes its subtree along; twice is fine.
		s.trashItem(key, core.DriveFolderKind, A)
		trashedAt := s.clock.Now()
		s.trashItem(key, core.DriveFolderKind, A)
		folders, files := s.driveListing("", key)
		require.Empty(t, folders)
		require.Equal(t, []string{"readme.md"}, files)
		require.EqualValues(t, 170, s.driveUsed(key), "trashed bytes count until purged")

		r := s.do("GET", "/api/drive/trash", nil, key)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		require.Equal(t, "no-store", r.header.Get("Cache-Control"))
		bin := r.json(t)
		require.Equal(t, []string{"Albums"}, names(bin["folders"]), "the subtree is not listed on its own")
		require.Empty(t, names(bin["files"]))
		require.Nil(t, bin["nextCursor"])
		listed := bin["folders"].([]any)[0].(map[string]any)
		require.Equal(t, true, listed["trashed"])
		require.WithinDuration(t, trashedAt, parseTime(t, listed["trashedAt"]), time.Second)
		require.Equal(t, parseTime(t, listed["trashedAt"]).Add(30*24*time.Hour), parseTime(t, listed["purgeAt"]))

		item := s.driveItem(key, core.DriveFileKind, f1ID)
		require.Equal(t, true, item["trashed"])
		require.Nil(t, item["url"], "no media link in the recycle bin")
		require.Nil(t, item["mediaToken"])
		require.Nil(t, item["purgeAt"], "it goes with its folder")
		require.Equal(t, true, s.driveItem(key, core.DriveFolderKind, B)["trashed"])
		s.do("GET", f1Media, nil).requireError(t, http.StatusNotFound, "not_found", "")
		require.Equal(t, http.StatusNotFound, s.do("HEAD", f1Media, nil).status)
		// Nothing goes into a trashed folder.
		s.do("POST", "/api/drive", map[string]any{"name": "x", "parentId": B}, key).requireError(t, http.StatusConflict, "in_trash", "")
		s.driveUpload(A, "x.txt", []byte("x"), key).requireError(t, http.StatusConflict, "in_trash", "")

		// The bin is newest deletion first, folders before files.
		s.clock.Advance(time.Minute)
		s.trashItem(key, core.DriveFileKind, r1ID)
		bin = s.do("GET", "/api/drive/trash", nil, withSession(a.session)).json(t)
		require.Equal(t, []string{"Albums"}, names(bin["folders"]))
		require.Equal(t, []string{"readme.md"}, names(bin["files"]))

		t.Run("restore_puts_a_folder_back_with_its_subtree", func(t *testing.T) {
			r := s.do("POST", "/api/drive/trash", selection(nil, []string{A}), key)
			require.Equal(t, http.StatusNoContent, r.status, "body: %s", r.body)
			folders, _ := s.driveListing("", key)
			require.Equal(t, []string{"Albums"}, folders)
			require.Equal(t, false, s.driveItem(key, core.DriveFolderKind, B)["trashed"])
			f := s.driveItem(key, core.DriveFileKind, f1ID)
			require.Equal(t, false, f["trashed"])
			require.Equal(t, B, f["parentId"])
			require.Equal(t, http.StatusOK, s.do("GET", f1Media, nil).status, "the old link works again")
			// A live item is not in the bin: 404, and nothing changes.
			s.do("POST", "/api/drive/trash", selection([]string{r1ID}, []string{A}), key).requireError(t, http.StatusNotFound, "not_found", "")
			require.Equal(t, true, s.driveItem(key, core.DriveFileKind, r1ID)["trashed"], "all or nothing")
		})

		t.Run("restore_goes_to_the_root_when_the_parent_is_trashed_and_numbers_clashes", func(t *testing.T) {
			s.trashItem(key, core.DriveFileKind, f2ID) // notes.txt, alone
			s.trashItem(key, core.DriveFolderKind, A)  // then its folder
			s.mustDriveUpload("", "Notes.txt", []byte("new notes"), key)
			require.Equal(t, http.StatusNoContent, s.do("POST", "/api/drive/trash", selection([]string{f2ID}, nil), key).status)
			f := s.driveItem(key, core.DriveFileKind, f2ID)
			require.Nil(t, f["parentId"], "its folder is in the bin: restored to the root")
			require.Equal(t, "notes (1).txt", f["name"])
			// A folder: restored next to a new one of its name.
			s.mkFolder(key, "ALBUMS", "")
			require.Equal(t, http.StatusNoContent, s.do("POST", "/api/drive/trash", selection(nil, []string{A}), key).status)
			folders, _ := s.driveListing("", key)
			require.Equal(t, []string{"ALBUMS", "Albums (1)"}, folders)
			// The file restored to the root stays there.
			_, files := s.driveListing("?parentId="+A, key)
			require.Empty(t, files)
			// Restoring the readme: to the root, its name free.
			require.Equal(t, http.StatusNoContent, s.do("POST", "/api/drive/trash", selection([]string{r1ID}, nil), key).status)
			require.Equal(t, "readme.md", s.driveItem(key, core.DriveFileKind, r1ID)["name"])
		})

		t.Run("items_that_went_with_a_folder_are_not_restored_alone", func(t *testing.T) {
			s.trashItem(key, core.DriveFolderKind, A)
			s.do("POST", "/api/drive/trash", selection(nil, []string{B}), key).requireError(t, http.StatusNotFound, "not_found", "")
			s.do("POST", "/api/drive/trash", selection([]string{f1ID}, nil), key).requireError(t, http.StatusNotFound, "not_found", "")
			require.Equal(t, true, s.driveItem(key, core.DriveFolderKind, B)["trashed"])
		})

		t.Run("permanent_delete_releases_the_bytes_at_once", func(t *testing.T) {
			// A is in the bin with B and wave.jpg (100 bytes).
			before := s.driveUsed(key)
			s.do("DELETE", "/api/drive/trash", selection([]string{r1ID}, nil), key).requireError(t, http.StatusNotFound, "not_found", "")
			r := s.do("DELETE", "/api/drive/trash", selection(nil, []string{A}), key)
			require.Equal(t, http.StatusNoContent, r.status, "body: %s", r.body)
			require.Equal(t, before-100, s.driveUsed(key))
			for _, id := range []string{A, B} {
				s.requireGone(key, core.DriveFolderKind, id)
			}
			s.requireGone(key, core.DriveFileKind, f1ID)
			s.do("GET", f1Media, nil).requireError(t, http.StatusNotFound, "not_found", "")
			bin := s.do("GET", "/api/drive/trash", nil, key).json(t)
			require.Empty(t, names(bin["folders"]))
			s.do("DELETE", "/api/drive/trash", selection(nil, []string{A}), key).requireError(t, http.StatusNotFound, "not_found", "")
			// The object goes when the worker runs.
			_, err := s.blobs.Head(ctx, f1["storageKey"].(string))
			require.NoError(t, err, "the object stays until the worker runs")
			n, err := s.drive.DeleteObjects(ctx)
			require.NoError(t, err)
			require.GreaterOrEqual(t, n, 1)
			_, err = s.blobs.Head(ctx, f1["storageKey"].(string))
			require.True(t, core.IsKind(err, core.KindNotFound), "the object is gone: %v", err)
			_, err = s.blobs.Head(ctx, r1["storageKey"].(string))
			require.NoError(t, err, "other objects stay")
		})

		t.Run("a_subtree_item_may_be_deleted_for_good_alone", func(t *testing.T) {
			C := s.mkFolder(key, "Camera", "")["id"].(string)
			D := s.mkFolder(key, "Dump", C)["id"].(string)
			s.mustDriveUpload(D, "raw.bin", []byte(strings.Repeat("x", 30)), key)
			s.mustDriveUpload(C, "keep.bin", []byte(strings.Repeat("k", 7)), key)
			before := s.driveUsed(key)
			s.trashItem(key, core.DriveFolderKind, C)
			require.Equal(t, http.StatusNoContent, s.do("DELETE", "/api/drive/trash", selection(nil, []string{D}), key).status)
			require.Equal(t, before-30, s.driveUsed(key))
			require.Equal(t, http.StatusNoContent, s.do("POST", "/api/drive/trash", selection(nil, []string{C}), key).status)
			folders, files := s.driveListing("?parentId="+C, key)
			require.Empty(t, folders)
			require.Equal(t, []string{"keep.bin"}, files)
		})

		t.Run("purge_after_30_days", func(t *testing.T) {
			p := s.mustDriveUpload("", "old.bin", []byte(strings.Repeat("o", 11)), key)["id"].(string)
			before := s.driveUsed(key)
			s.trashItem(key, core.DriveFileKind, p)
			s.clock.Advance(29 * 24 * time.Hour)
			_, err := s.drive.PurgeTrash(ctx)
			require.NoError(t, err)
			require.Equal(t, true, s.driveItem(key, core.DriveFileKind, p)["trashed"], "kept for 30 days")
			s.clock.Advance(24*time.Hour + time.Second)
			n, err := s.drive.PurgeTrash(ctx)
			require.NoError(t, err)
			require.GreaterOrEqual(t, n, 1)
			s.requireGone(key, core.DriveFileKind, p)
			require.Equal(t, before-11, s.driveUsed(key))
			bin := s.do("GET", "/api/drive/trash", nil, key).json(t)
			require.Empty(t, bin["files"])
			require.Empty(t, bin["folders"])
		})

		t.Run("the_bin_pages", func(t *testing.T) {
			var want []string
			for i := range 5 {
				f := s.mkFolder(key, "T"+string(rune('a'+i)), "")["id"].(string)
				s.clock.Advance(time.Second)
				s.trashItem(key, core.DriveFolderKind, f)
				want = append([]string{f}, want...) // newest first
			}
			for i := range 3 {
				f := s.mustDriveUpload("", "t"+string(rune('a'+i))+".txt", []byte("t"), key)["id"].(string)
				s.trashItem(key, core.DriveFileKind, f)
			}
			for _, limit := range []int{1, 2, 5, 8, 100} {
				folders, files, _ := s.drivePages("/api/drive/trash", url.Values{}, limit, key)
				require.Equal(t, want, ids(folders), "limit %d", limit)
				require.Len(t, files, 3, "limit %d", limit)
			}
			s.do("GET", "/api/drive/trash?limit=0", nil, key).requireError(t, http.StatusBadRequest, "invalid_request", "limit")
			s.do("GET", "/api/drive/trash?cursor=nope!", nil, key).requireError(t, http.StatusBadRequest, "invalid_request", "cursor")
		})

		t.Run("selections_are_checked", func(t *testing.T) {
			for _, method := range []string{"POST", "DELETE"} {
				for _, body := range []any{map[string]any{}, selection(nil, nil), `{"fileIds":`, `{"fileIds":"file_x"}`, `{"fileIds":[1]}`} {
					s.do(method, "/api/drive/trash", body, key).requireError(t, http.StatusBadRequest, "invalid_request", "")
				}
				many := make([]string, 1001)
				for i := range many {
					many[i] = "file_x"
				}
				s.do(method, "/api/drive/trash", selection(many, nil), key).requireError(t, http.StatusBadRequest, "invalid_request", "")
				for _, id := range []string{"bad id!", "file_00000000000000000000000000"} {
					s.do(method, "/api/drive/trash", selection([]string{id}, nil), key).requireError(t, http.StatusNotFound, "not_found", "")
					s.do(method, "/api/drive/trash", selection(nil, []string{id}), key).requireError(t, http.StatusNotFound, "not_found", "")
				}
			}
			s.do("DELETE", itemURL(core.DriveFileKind, "file_00000000000000000000000000"), nil, key).requireError(t, http.StatusNotFound, "not_found", "")
			s.do("DELETE", itemURL(core.DriveFolderKind, "bad id!"), nil, key).requireError(t, http.StatusNotFound, "not_found", "")
		})
	})
}

// registerDrivePlan creates a free Drive plan of limit bytes through the
// admin API and registers a drive account on it.
func (s *testServer) registerDrivePlan(adminSession string, limit int64) account {
	s.t.Helper()
	r := s.do("POST", "/api/admin/plans", map[string]any{"planType": "drive", "name": "Tiny Drive", "storageLimitBytes": limit, "price": 0}, withSession(adminSession))
	require.Equal(s.t, http.StatusCreated, r.status, "body: %s", r.body)
	email := uniqueEmail("tinydrive")
	reg := s.do("POST", "/api/register", map[string]any{
		"email": email, "password": "correct horse battery", "displayName": "Tiny Drive", "accountType": "drive", "planId": r.json(s.t)["id"],
	})
	require.Equal(s.t, http.StatusCreated, reg.status, "body: %s", reg.body)
	m := reg.json(s.t)
	require.Equal(s.t, false, m["requiresPayment"])
	return account{profileID: m["profileId"].(string), email: email, apiKey: m["apiKey"].(string), driveKey: m["driveApiKey"].(string), session: reg.cookie.Value}
}

func TestDriveQuota(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		admin := uniqueEmail("staff")
		s := newTestServer(t, backend, options{admins: []string{admin}})
		a := s.registerDrivePlan(s.register(admin).session, 4096)
		key := withKey(a.driveKey)

		st := s.do("GET", "/api/drive/storage", nil, key).json(t)
		require.EqualValues(t, 4096, st["limitBytes"])
		require.EqualValues(t, 0, st["usedBytes"])

		big := s.mustDriveUpload("", "big.bin", []byte(strings.Repeat("b", 3000)), key)["id"].(string)
		s.trashItem(key, core.DriveFileKind, big)
		// The bin still holds the bytes.
		s.driveUpload("", "more.bin", []byte(strings.Repeat("m", 2000)), key).requireError(t, http.StatusRequestEntityTooLarge, "quota_exceeded", "")
		s.do("POST", "/api/drive/upload/presign", drivePresignBody("", "more.bin", "application/octet-stream", 2000, nil), key).
			requireError(t, http.StatusRequestEntityTooLarge, "quota_exceeded", "")
		require.EqualValues(t, 3000, s.driveUsed(key))
		// Emptying it frees them at once.
		require.Equal(t, http.StatusNoContent, s.do("DELETE", "/api/drive/trash", selection([]string{big}, nil), key).status)
		require.Zero(t, s.driveUsed(key))
		s.mustDriveUpload("", "more.bin", []byte(strings.Repeat("m", 2000)), key)
		s.drivePresigned("", "rest.bin", "application/octet-stream", []byte(strings.Repeat("r", 2096)), nil, key)
		require.EqualValues(t, 4096, s.driveUsed(key))
		s.driveUpload("", "one.bin", []byte("1"), key).requireError(t, http.StatusRequestEntityTooLarge, "quota_exceeded", "")
		u, err := s.quota.Usage(context.Background(), s.driveOf(a.profileID))
		require.NoError(t, err)
		require.Equal(t, core.Usage{UsedBytes: 4096}, u)
	})
}
