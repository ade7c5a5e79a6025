package httpapi

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
)

// driveRoute is one Drive route with a valid-looking body.
type driveRoute struct {
	method, path string
	body         any // "multipart" for the proxy upload
}

// driveRoutes are every authenticated Drive route, aimed at a folder and
// a file of the caller's.
func driveRoutes(folderID, fileID string) []driveRoute {
	return []driveRoute{
		{"GET", "/api/drive", nil},
		{"GET", "/api/drive?parentId=" + folderID, nil},
		{"POST", "/api/drive", map[string]any{"name": "New", "parentId": folderID}},
		{"POST", "/api/drive/upload", "multipart"},
		{"POST", "/api/drive/upload/presign", drivePresignBody(folderID, "a.jpg", "image/jpeg", 3, nil)},
		{"POST", "/api/drive/upload/complete", drivePresignBody(folderID, "a.jpg", "image/jpeg", 3, map[string]any{"storageKey": "drive/x/up_x/a.jpg"})},
		{"GET", itemURL(core.DriveFolderKind, folderID), nil},
		{"GET", itemURL(core.DriveFileKind, fileID), nil},
		{"PATCH", itemURL(core.DriveFolderKind, folderID), map[string]any{"name": "Renamed"}},
		{"PATCH", itemURL(core.DriveFileKind, fileID), map[string]any{"targetFolderId": nil}},
		{"DELETE", itemURL(core.DriveFolderKind, folderID), nil},
		{"DELETE", itemURL(core.DriveFileKind, fileID), nil},
		{"GET", "/api/drive/trash", nil},
		{"POST", "/api/drive/trash", selection([]string{fileID}, []string{folderID})},
		{"DELETE", "/api/drive/trash", selection([]string{fileID}, []string{folderID})},
		{"GET", "/api/drive/storage", nil},
	}
}

// send sends a route's request; the proxy upload goes to folderID.
func (s *testServer) send(rt driveRoute, folderID string, opts ...reqOpt) reply {
	s.t.Helper()
	if rt.body == "multipart" {
		return s.driveUpload(folderID, "a.jpg", []byte("abc"), opts...)
	}
	return s.do(rt.method, rt.path, rt.body, opts...)
}

// driveSnapshot is what an account's drive holds, read through the API.
func (s *testServer) driveSnapshot(auth reqOpt, folderID string) string {
	s.t.Helper()
	rootFolders, rootFiles := s.driveListing("", auth)
	folders, files := s.driveListing("?parentId="+folderID, auth)
	bin := s.do("GET", "/api/drive/trash", nil, auth).json(s.t)
	return strings.Join([]string{
		strings.Join(rootFolders, ","), strings.Join(rootFiles, ","), strings.Join(folders, ","), strings.Join(files, ","),
		strings.Join(names(bin["folders"]), ","), strings.Join(names(bin["files"]), ","),
	}, "|")
}

func TestDriveAuth(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		s := newTestServer(t, backend, options{})
		a := s.register(uniqueEmail("auth"))
		key := withKey(a.driveKey)
		folder := s.mkFolder(key, "Mine", "")["id"].(string)
		file := s.mustDriveUpload(folder, "mine.txt", []byte("mine"), key)["id"].(string)
		before := s.driveSnapshot(key, folder)

		for _, rt := range driveRoutes(folder, file) {
			t.Run(strings.ReplaceAll(rt.method+rt.path, "/", "_"), func(t *testing.T) {
				s.send(rt, folder).requireError(t, http.StatusUnauthorized, "unauthorized", "")
				s.send(rt, folder, withKey("drv_"+strings.Repeat("a", 40))).requireError(t, http.StatusUnauthorized, "unauthorized", "")
				s.send(rt, folder, withKey("not-a-key")).requireError(t, http.StatusUnauthorized, "unauthorized", "")
				s.send(rt, folder, withSession("forged-session")).requireError(t, http.StatusUnauthorized, "unauthorized", "")
				// The Client Gallery key of the same account is another line's.
				s.send(rt, folder, withKey(a.apiKey)).requireError(t, http.StatusForbidden, "forbidden", "")
				s.send(rt, folder, withKey(a.apiKey), withSession(a.session)).requireError(t, http.StatusForbidden, "forbidden", "")
			})
		}
		require.Equal(t, before, s.driveSnapshot(key, folder), "refused requests change nothing")
		require.EqualValues(t, 4, s.driveUsed(key))
		u, err := s.quota.Usage(context.Background(), s.driveOf(a.profileID))
		require.NoError(t, err)
		require.Equal(t, core.Usage{UsedBytes: 4}, u, "nothing reserved")
		// The session works like the key.
		require.Equal(t, before, s.driveSnapshot(withSession(a.session), folder))
	})
}

func TestDriveForeignIDs(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		s := newTestServer(t, backend, options{})
		a := s.register(uniqueEmail("owner"))
		b := s.register(uniqueEmail("intruder"))
		key := withKey(a.driveKey)
		folder := s.mkFolder(key, "Private", "")["id"].(string)
		sub := s.mkFolder(key, "Sub", folder)["id"].(string)
		fileRec := s.mustDriveUpload(folder, "secret.txt", []byte("secret"), key)
		file := fileRec["id"].(string)
		binFolder := s.mkFolder(key, "Old", "")["id"].(string)
		binFile := s.mustDriveUpload("", "old.txt", []byte("old"), key)["id"].(string)
		s.trashItem(key, core.DriveFolderKind, binFolder)
		s.trashItem(key, core.DriveFileKind, binFile)
		before := s.driveSnapshot(key, folder)
		mine := s.mkFolder(withKey(b.driveKey), "Theirs", "")["id"].(string)
		myFile := s.mustDriveUpload("", "theirs.txt", []byte("theirs"), withKey(b.driveKey))["id"].(string)

		for name, auth := range map[string]reqOpt{"key": withKey(b.driveKey), "session": withSession(b.session)} {
			t.Run(name, func(t *testing.T) {
				notFound := func(r reply) {
					t.Helper()
					r.requireError(t, http.StatusNotFound, "not_found", "")
				}
				for _, rt := range driveRoutes(folder, file) {
					if rt.method == "GET" && (rt.path == "/api/drive" || rt.path == "/api/drive/trash" || rt.path == "/api/drive/storage") ||
						rt.path == "/api/drive/upload/complete" {
						continue // no id of a's, or checked below
					}
					notFound(s.send(rt, folder, auth))
				}
				for _, id := range []string{sub, binFolder} {
					notFound(s.do("GET", itemURL(core.DriveFolderKind, id), nil, auth))
					notFound(s.do("PATCH", itemURL(core.DriveFolderKind, id), map[string]any{"name": "x"}, auth))
					notFound(s.do("DELETE", itemURL(core.DriveFolderKind, id), nil, auth))
					notFound(s.do("GET", "/api/drive?parentId="+id, nil, auth))
				}
				notFound(s.do("GET", itemURL(core.DriveFileKind, binFile), nil, auth))
				// a's folder as a target of b's own items.
				notFound(s.do("PATCH", itemURL(core.DriveFolderKind, mine), map[string]any{"targetFolderId": folder}, auth))
				notFound(s.do("PATCH", itemURL(core.DriveFileKind, myFile), map[string]any{"targetFolderId": sub}, auth))
				// a's bin.
				for _, method := range []string{"POST", "DELETE"} {
					notFound(s.do(method, "/api/drive/trash", selection([]string{binFile}, nil), auth))
					notFound(s.do(method, "/api/drive/trash", selection(nil, []string{binFolder}), auth))
				}
				// b's own presigned upload, completed into a's folder.
				pre := s.do("POST", "/api/drive/upload/presign", drivePresignBody("", "b.txt", "text/plain", 3, nil), auth)
				require.Equal(t, http.StatusOK, pre.status, "body: %s", pre.body)
				pm := pre.json(t)
				require.Equal(t, http.StatusOK, s.putPresigned(pm["uploadUrl"].(string), pm["headers"].(map[string]any), []byte("bbb")))
				notFound(s.do("POST", "/api/drive/upload/complete", drivePresignBody(folder, "b.txt", "text/plain", 3, map[string]any{"storageKey": pm["storageKey"]}), auth))
				// a's storage key is not b's to complete.
				s.do("POST", "/api/drive/upload/complete", drivePresignBody("", "s.txt", "text/plain", 6, map[string]any{"storageKey": fileRec["storageKey"]}), auth).
					requireError(t, http.StatusForbidden, "forbidden", "")
				// b's listing shows none of a's.
				folders, _ := s.driveListing("", auth)
				require.Equal(t, []string{"Theirs"}, folders)
				require.Empty(t, s.do("GET", "/api/drive/trash", nil, auth).json(t)["folders"])
			})
		}
		require.Equal(t, before, s.driveSnapshot(key, folder), "a's drive is untouched")
		require.EqualValues(t, len("secret")+len("old"), s.driveUsed(key))
		require.Equal(t, "secret.txt", s.driveItem(key, core.DriveFileKind, file)["name"])
	})
}

func TestDriveUploadErrors(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		s := newTestServer(t, backend, options{maxFileBytes: 1 << 20})
		a := s.register(uniqueEmail("uperr"))
		key := withKey(a.driveKey)
		folder := s.mkFolder(key, "Docs", "")["id"].(string)
		gone := s.mkFolder(key, "Gone", "")["id"].(string)
		s.trashItem(key, core.DriveFolderKind, gone)
		someFile := s.mustDriveUpload("", "f.txt", []byte("f"), key)["id"].(string)
		refused := func(t *testing.T, r reply, status int, code, detail string) {
			t.Helper()
			r.requireError(t, status, code, detail)
			require.Equal(t, "close", r.header.Get("Connection"), "a refused upload closes the connection")
		}

		t.Run("proxy", func(t *testing.T) {
			ct, body := multipartUpload(t, map[string]string{"folderId": folder}, "a.txt", []byte("abc"))
			refused(t, s.chunked("POST", "/api/drive/upload", ct, body, key), http.StatusBadRequest, "length_required", "Content-Length")
			refused(t, s.rawDoC("POST", "/api/drive/upload", "application/json", []byte(`{"folderId":"x"}`), key), http.StatusBadRequest, "invalid_request", "Content-Type")
			var buf bytes.Buffer
			w := multipart.NewWriter(&buf)
			require.NoError(t, w.WriteField("folderId", folder))
			require.NoError(t, w.Close())
			refused(t, s.rawDoC("POST", "/api/drive/upload", w.FormDataContentType(), buf.Bytes(), key), http.StatusBadRequest, "invalid_request", "file")
			refused(t, s.driveUpload(folder, "empty.txt", nil, key), http.StatusBadRequest, "invalid_request", "file")
			refused(t, s.driveUpload(folder, "big.bin", make([]byte, 1<<20+1), key), http.StatusRequestEntityTooLarge, "payload_too_large", "file")
			for _, id := range []string{"fld_00000000000000000000000000", someFile, "bad id!"} {
				refused(t, s.driveUpload(id, "a.txt", []byte("abc"), key), http.StatusNotFound, "not_found", "folderId")
			}
			refused(t, s.driveUpload(gone, "a.txt", []byte("abc"), key), http.StatusConflict, "in_trash", "")
			ct, body = multipartUpload(t, map[string]string{"folderId": strings.Repeat("f", 5000)}, "a.txt", []byte("abc"))
			refused(t, s.rawDoC("POST", "/api/drive/upload", ct, body, key), http.StatusBadRequest, "invalid_request", "folderId")
			// An empty folderId is the root.
			ct, body = multipartUpload(t, map[string]string{"folderId": ""}, "root.txt", []byte("abc"))
			r := s.rawDoC("POST", "/api/drive/upload", ct, body, key)
			require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
			require.Nil(t, r.json(t)["parentId"])
		})

		t.Run("presign", func(t *testing.T) {
			presign := func(body any) reply { return s.do("POST", "/api/drive/upload/presign", body, key) }
			presign(drivePresignBody(folder, "a.txt", "text/plain", 0, nil)).requireError(t, http.StatusBadRequest, "invalid_request", "sizeBytes")
			presign(drivePresignBody(folder, "a.txt", "text/plain", -1, nil)).requireError(t, http.StatusBadRequest, "invalid_request", "sizeBytes")
			presign(drivePresignBody(folder, "a.txt", "text/plain", 1<<20+1, nil)).requireError(t, http.StatusRequestEntityTooLarge, "payload_too_large", "")
			presign(drivePresignBody(folder, "", "text/plain", 3, nil)).requireError(t, http.StatusBadRequest, "invalid_request", "fileName")
			presign(`{"fileName":`).requireError(t, http.StatusBadRequest, "invalid_request", "")
			presign(map[string]any{"fileName": "a.txt", "contentType": "text/plain", "sizeBytes": "3"}).requireError(t, http.StatusBadRequest, "invalid_request", "")
			for _, id := range []string{"fld_00000000000000000000000000", someFile, "bad id!"} {
				presign(drivePresignBody(id, "a.txt", "text/plain", 3, nil)).requireError(t, http.StatusNotFound, "not_found", "folderId")
			}
			presign(drivePresignBody(gone, "a.txt", "text/plain", 3, nil)).requireError(t, http.StatusConflict, "in_trash", "")
			u, err := s.quota.Usage(context.Background(), s.driveOf(a.profileID))
			require.NoError(t, err)
			require.Zero(t, u.ReservedBytes, "refused presigns reserve nothing")
		})

		t.Run("complete", func(t *testing.T) {
			content := []byte("0123456789")
			pre := s.do("POST", "/api/drive/upload/presign", drivePresignBody(folder, "c.txt", "text/plain", len(content), nil), key)
			require.Equal(t, http.StatusOK, pre.status, "body: %s", pre.body)
			pm := pre.json(t)
			body := drivePresignBody(folder, "c.txt", "text/plain", len(content), map[string]any{"storageKey": pm["storageKey"]})
			complete := func(body any) reply { return s.do("POST", "/api/drive/upload/complete", body, key) }
			complete(body).requireError(t, http.StatusConflict, "upload_incomplete_or_mismatch", "object_not_visible_yet_retry_complete")
			require.Equal(t, http.StatusOK, s.putPresigned(pm["uploadUrl"].(string), pm["headers"].(map[string]any), content))
			wrong := drivePresignBody(folder, "c.txt", "text/plain", len(content)+1, map[string]any{"storageKey": pm["storageKey"]})
			complete(wrong).requireError(t, http.StatusBadRequest, "upload_incomplete_or_mismatch", "sizeBytes")
			complete(drivePresignBody(folder, "c.txt", "text/plain", len(content), nil)).requireError(t, http.StatusBadRequest, "invalid_request", "storageKey")
			for _, sk := range []string{
				"drive/" + s.driveOf(a.profileID) + "/up_never/c.txt",
				"clientGallery/" + s.studioOf(a) + "/up_x/c.txt",
				"drive/" + s.driveOf(a.profileID) + "/../x/c.txt",
				strings.Repeat("k", 3000),
			} {
				complete(drivePresignBody(folder, "c.txt", "text/plain", len(content), map[string]any{"storageKey": sk})).requireError(t, http.StatusForbidden, "forbidden", "")
			}
			// Into a trashed or unknown folder: refused, and still completable.
			complete(drivePresignBody(gone, "c.txt", "text/plain", len(content), map[string]any{"storageKey": pm["storageKey"]})).requireError(t, http.StatusConflict, "in_trash", "")
			complete(drivePresignBody("fld_00000000000000000000000000", "c.txt", "text/plain", len(content), map[string]any{"storageKey": pm["storageKey"]})).
				requireError(t, http.StatusNotFound, "not_found", "folderId")
			r := complete(body)
			require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
			rec := r.json(t)
			require.Equal(t, folder, rec["parentId"])
			// Again, even naming another folder: the same record.
			again := complete(drivePresignBody("", "other.txt", "text/plain", len(content), map[string]any{"storageKey": pm["storageKey"]}))
			require.Equal(t, http.StatusCreated, again.status, "body: %s", again.body)
			require.Equal(t, rec["id"], again.json(t)["id"])
			require.Equal(t, folder, again.json(t)["parentId"])
		})

		t.Run("nothing_else_was_stored_or_counted", func(t *testing.T) {
			_, files := s.driveListing("?parentId="+folder, key)
			require.Equal(t, []string{"c.txt"}, files)
			_, files = s.driveListing("", key)
			require.Equal(t, []string{"f.txt", "root.txt"}, files)
			u, err := s.quota.Usage(context.Background(), s.driveOf(a.profileID))
			require.NoError(t, err)
			require.Equal(t, core.Usage{UsedBytes: 1 + 3 + 10}, u)
		})
	})
}

func TestDriveItemErrors(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		s := newTestServer(t, backend, options{})
		a := s.register(uniqueEmail("items"))
		key := withKey(a.driveKey)
		folder := s.mkFolder(key, "F", "")["id"].(string)
		file := s.mustDriveUpload("", "f.txt", []byte("f"), key)["id"].(string)
		for _, method := range []string{"GET", "DELETE"} {
			for _, path := range []string{
				itemURL(core.DriveFolderKind, "fld_00000000000000000000000000"),
				itemURL(core.DriveFileKind, "file_00000000000000000000000000"),
				itemURL(core.DriveFolderKind, file), // the wrong kind
				itemURL(core.DriveFileKind, folder),
				"/api/drive/items/" + file + "?type=folder&x=1",
			} {
				s.do(method, path, nil, key).requireError(t, http.StatusNotFound, "not_found", "")
			}
			s.do(method, "/api/drive/items/"+folder+"?type=Folder", nil, key).requireError(t, http.StatusBadRequest, "invalid_request", "type")
			s.do(method, "/api/drive/items/"+folder+"?type=folder&type=file", nil, key).requireError(t, http.StatusBadRequest, "invalid_request", "type")
			s.do(method, "/api/drive/items/other_123", nil, key).requireError(t, http.StatusBadRequest, "invalid_request", "type")
		}
		// Without ?type= the id's prefix tells the kind.
		require.Equal(t, "file", s.do("GET", "/api/drive/items/"+file, nil, key).json(t)["type"])
		require.Equal(t, http.StatusNoContent, s.do("DELETE", "/api/drive/items/"+file, nil, key).status)
		require.Equal(t, true, s.driveItem(key, core.DriveFileKind, file)["trashed"])
		// Unknown methods and routes keep the error body.
		r := s.do("PUT", "/api/drive/items/"+folder, map[string]any{"name": "x"}, key)
		require.Contains(t, []int{http.StatusNotFound, http.StatusMethodNotAllowed}, r.status)
		require.NotEmpty(t, r.json(t)["error"])
	})
}

func TestDriveConcurrency(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		s := newTestServer(t, backend, options{})
		a := s.register(uniqueEmail("race"))
		key := withKey(a.driveKey)
		const racers = 6

		t.Run("crossed_moves_never_make_a_cycle", func(t *testing.T) {
			for i := range 5 {
				x := s.mkFolder(key, fmt.Sprint("x", i), "")["id"].(string)
				y := s.mkFolder(key, fmt.Sprint("y", i), "")["id"].(string)
				var wg sync.WaitGroup
				var rx, ry reply
				wg.Go(func() { rx = s.do("PATCH", itemURL(core.DriveFolderKind, x), map[string]any{"targetFolderId": y}, key) })
				wg.Go(func() { ry = s.do("PATCH", itemURL(core.DriveFolderKind, y), map[string]any{"targetFolderId": x}, key) })
				wg.Wait()
				statuses := []int{rx.status, ry.status}
				slices.Sort(statuses)
				require.Equal(t, []int{http.StatusOK, http.StatusBadRequest}, statuses, "x: %s, y: %s", rx.body, ry.body)
				for _, id := range []string{x, y} {
					path, err := s.store.Path(context.Background(), s.driveOf(a.profileID), id)
					require.NoError(t, err)
					require.LessOrEqual(t, len(path), 2)
					require.Empty(t, path[len(path)-1].ParentID)
				}
			}
		})

		t.Run("one_of_concurrent_creates_of_a_name_wins", func(t *testing.T) {
			replies := make([]reply, racers)
			var wg sync.WaitGroup
			for i := range racers {
				wg.Go(func() {
					replies[i] = s.do("POST", "/api/drive", map[string]any{"name": []string{"Same", "SAME", "same"}[i%3]}, key)
				})
			}
			wg.Wait()
			created := 0
			for _, r := range replies {
				if r.status == http.StatusCreated {
					created++
					continue
				}
				r.requireError(t, http.StatusConflict, "name_taken", "")
			}
			require.Equal(t, 1, created)
		})

		t.Run("concurrent_uploads_of_a_name_are_numbered", func(t *testing.T) {
			const racers = 4 // the proxy uploads one account may run at once
			dir := s.mkFolder(key, "Uploads", "")["id"].(string)
			replies := make([]reply, racers)
			var wg sync.WaitGroup
			for i := range racers {
				wg.Go(func() { replies[i] = s.driveUpload(dir, "same.txt", []byte("same"), key) })
			}
			wg.Wait()
			var got []string
			for _, r := range replies {
				require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
				got = append(got, r.json(t)["name"].(string))
			}
			want := []string{"same.txt"}
			for i := 1; i < racers; i++ {
				want = append(want, fmt.Sprintf("same (%d).txt", i))
			}
			require.ElementsMatch(t, want, got)
			require.EqualValues(t, racers*len("same"), s.driveUsed(key))
		})
	})
}

func TestDriveDepth(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		s := newTestServer(t, backend, options{})
		a := s.register(uniqueEmail("deep"))
		key := withKey(a.driveKey)
		chain := make([]string, 0, core.MaxDriveDepth) // chain[i] sits at depth i+1
		parent := ""
		for i := range core.MaxDriveDepth {
			parent = s.mkFolder(key, fmt.Sprint("level ", i+1), parent)["id"].(string)
			chain = append(chain, parent)
		}
		s.do("POST", "/api/drive", map[string]any{"name": "too deep", "parentId": parent}, key).
			requireError(t, http.StatusBadRequest, "invalid_request", "parentId")
		require.Equal(t, http.StatusCreated, s.driveUpload(parent, "deepest.txt", []byte("d"), key).status, "files take no level")

		// A folder two levels high fits under depth 98, not 99; a trashed
		// subfolder counts (it may come back).
		x := s.mkFolder(key, "X", "")["id"].(string)
		xChild := s.mkFolder(key, "X child", x)["id"].(string)
		move := func(id, target string) reply {
			return s.do("PATCH", itemURL(core.DriveFolderKind, id), map[string]any{"targetFolderId": target}, key)
		}
		move(x, chain[core.MaxDriveDepth-2]).requireError(t, http.StatusBadRequest, "invalid_request", "targetFolderId")
		s.trashItem(key, core.DriveFolderKind, xChild)
		move(x, chain[core.MaxDriveDepth-2]).requireError(t, http.StatusBadRequest, "invalid_request", "targetFolderId")
		r := move(x, chain[core.MaxDriveDepth-3])
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		require.Equal(t, http.StatusNoContent, s.do("POST", "/api/drive/trash", selection(nil, []string{xChild}), key).status)
		path, err := s.store.Path(context.Background(), s.driveOf(a.profileID), xChild)
		require.NoError(t, err)
		require.Len(t, path, core.MaxDriveDepth, "restored at the deepest level")
		s.do("POST", "/api/drive", map[string]any{"name": "too deep", "parentId": xChild}, key).
			requireError(t, http.StatusBadRequest, "invalid_request", "parentId")
	})
}
