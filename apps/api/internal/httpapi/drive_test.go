package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/drive"
)

// driveOf returns the profile's drive id.
func (s *testServer) driveOf(profileID string) string {
	s.t.Helper()
	d, err := s.store.DriveByProfile(context.Background(), profileID)
	require.NoError(s.t, err)
	return d.ID
}

// itemURL is the route of one drive item.
func itemURL(kind core.DriveItemKind, id string) string {
	return "/api/drive/items/" + url.PathEscape(id) + "?type=" + string(kind)
}

// nullable is a JSON id or null for "".
func nullable(id string) any {
	if id == "" {
		return nil
	}
	return id
}

// mkFolder creates a folder through the API and returns its record.
func (s *testServer) mkFolder(auth reqOpt, name, parentID string) map[string]any {
	s.t.Helper()
	r := s.do("POST", "/api/drive", map[string]any{"name": name, "parentId": nullable(parentID)}, auth)
	require.Equal(s.t, http.StatusCreated, r.status, "body: %s", r.body)
	return r.json(s.t)
}

// driveUpload sends content through POST /api/drive/upload; folderID ""
// leaves the field out.
func (s *testServer) driveUpload(folderID, name string, content []byte, opts ...reqOpt) reply {
	s.t.Helper()
	fields := map[string]string{}
	if folderID != "" {
		fields["folderId"] = folderID
	}
	ct, body := multipartUpload(s.t, fields, name, content)
	return s.rawDoC("POST", "/api/drive/upload", ct, body, opts...)
}

// mustDriveUpload is driveUpload that must succeed; it returns the record.
func (s *testServer) mustDriveUpload(folderID, name string, content []byte, opts ...reqOpt) map[string]any {
	s.t.Helper()
	r := s.driveUpload(folderID, name, content, opts...)
	require.Equal(s.t, http.StatusCreated, r.status, "body: %s", r.body)
	return r.json(s.t)
}

// drivePresignBody is a drive presign request; extra fields are added.
func drivePresignBody(folderID, name, contentType string, size int, extra map[string]any) map[string]any {
	b := map[string]any{"fileName": name, "contentType": contentType, "sizeBytes": size, "folderId": nullable(folderID)}
	for k, v := range extra {
		b[k] = v
	}
	return b
}

// drivePresigned presigns, PUTs and completes content; it returns the
// complete request and the record.
func (s *testServer) drivePresigned(folderID, name, contentType string, content []byte, extra map[string]any, opts ...reqOpt) (map[string]any, map[string]any) {
	s.t.Helper()
	pre := s.do("POST", "/api/drive/upload/presign", drivePresignBody(folderID, name, contentType, len(content), extra), opts...)
	require.Equal(s.t, http.StatusOK, pre.status, "body: %s", pre.body)
	pm := pre.json(s.t)
	require.Equal(s.t, http.StatusOK, s.putPresigned(pm["uploadUrl"].(string), pm["headers"].(map[string]any), content))
	body := drivePresignBody(folderID, name, contentType, len(content), extra)
	body["storageKey"] = pm["storageKey"]
	r := s.do("POST", "/api/drive/upload/complete", body, opts...)
	require.Equal(s.t, http.StatusCreated, r.status, "body: %s", r.body)
	return body, r.json(s.t)
}

// driveUsed reads GET /api/drive/storage.
func (s *testServer) driveUsed(auth reqOpt) float64 {
	s.t.Helper()
	r := s.do("GET", "/api/drive/storage", nil, auth)
	require.Equal(s.t, http.StatusOK, r.status, "body: %s", r.body)
	return r.json(s.t)["usedBytes"].(float64)
}

// drivePages collects every page of a listing (GET path with q, limit per
// page) and returns its folders, files and the number of pages.
func (s *testServer) drivePages(path string, q url.Values, limit int, opts ...reqOpt) (folders, files []map[string]any, pages int) {
	s.t.Helper()
	q = cloneValues(q)
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	for pages = 1; pages < 10_000; pages++ {
		r := s.do("GET", path+"?"+q.Encode(), nil, opts...)
		require.Equal(s.t, http.StatusOK, r.status, "body: %s", r.body)
		var page struct {
			Folders    []map[string]any `json:"folders"`
			Files      []map[string]any `json:"files"`
			NextCursor *string          `json:"nextCursor"`
		}
		require.NoError(s.t, json.Unmarshal(r.body, &page))
		require.NotNil(s.t, page.Folders, "folders is an array: %s", r.body)
		require.NotNil(s.t, page.Files, "files is an array: %s", r.body)
		if limit > 0 {
			require.LessOrEqual(s.t, len(page.Folders)+len(page.Files), limit)
		}
		require.False(s.t, len(page.Folders) > 0 && len(files) > 0, "folders come before files")
		folders, files = append(folders, page.Folders...), append(files, page.Files...)
		if page.NextCursor == nil {
			return folders, files, pages
		}
		require.NotEmpty(s.t, *page.NextCursor)
		q.Set("cursor", *page.NextCursor)
	}
	s.t.Fatal("the listing never ends")
	return nil, nil, 0
}

// driveListing is one page of GET /api/drive (the whole folder for small
// ones): its folder and file names.
func (s *testServer) driveListing(query string, opts ...reqOpt) (folders, files []string) {
	s.t.Helper()
	r := s.do("GET", "/api/drive"+query, nil, opts...)
	require.Equal(s.t, http.StatusOK, r.status, "body: %s", r.body)
	m := r.json(s.t)
	require.Nil(s.t, m["nextCursor"], "one page: %s", r.body)
	return names(m["folders"]), names(m["files"])
}

func cloneValues(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = slices.Clone(v)
	}
	return out
}

// names returns the "name" of each item of a decoded JSON array (or of
// a []map[string]any).
func names(v any) []string {
	out := []string{}
	switch items := v.(type) {
	case []any:
		for _, it := range items {
			out = append(out, it.(map[string]any)["name"].(string))
		}
	case []map[string]any:
		for _, it := range items {
			out = append(out, it["name"].(string))
		}
	}
	return out
}

func ids(items []map[string]any) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, it["id"].(string))
	}
	return out
}

// requireListOrder asserts the contract's order: by normalized name, then
// id, in byte order.
func requireListOrder(t testing.TB, items []map[string]any) {
	t.Helper()
	for i := 1; i < len(items); i++ {
		a, b := items[i-1], items[i]
		na, nb := core.NormalizeDriveName(a["name"].(string)), core.NormalizeDriveName(b["name"].(string))
		require.True(t, na < nb || na == nb && a["id"].(string) < b["id"].(string), "%q before %q", a["name"], b["name"])
	}
}

// driveMediaPath returns the path and query of a file's media link.
func driveMediaPath(t testing.TB, file map[string]any) string {
	t.Helper()
	u, err := url.Parse(file["url"].(string))
	require.NoError(t, err)
	require.Equal(t, "/api/drive/media", u.Path)
	require.NotEmpty(t, file["mediaToken"])
	require.Equal(t, file["mediaToken"], u.Query().Get("t"))
	return u.RequestURI()
}

func TestDriveFolders(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		s := newTestServer(t, backend, options{})
		a := s.register(uniqueEmail("drive"))
		key := withKey(a.driveKey)

		r := s.do("GET", "/api/drive", nil, key)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		require.JSONEq(t, `{"folders":[],"files":[],"nextCursor":null}`, string(r.body))
		require.Equal(t, "no-store", r.header.Get("Cache-Control"))

		photos := s.mkFolder(key, "Photos", "")
		require.True(t, strings.HasPrefix(photos["id"].(string), "fld_"), "id %v", photos["id"])
		require.Equal(t, "folder", photos["type"])
		require.Equal(t, "Photos", photos["name"])
		require.Nil(t, photos["parentId"])
		require.Equal(t, false, photos["trashed"])
		require.Equal(t, false, photos["inIntegrationAppFolder"])
		require.NotEmpty(t, photos["createdAt"])
		photosID := photos["id"].(string)

		// Sibling names are unique whatever their case; other folders may
		// reuse them.
		for _, name := range []string{"Photos", "photos", "PHOTOS"} {
			s.do("POST", "/api/drive", map[string]any{"name": name, "parentId": nil}, key).requireError(t, http.StatusConflict, "name_taken", "")
			s.do("POST", "/api/drive", map[string]any{"name": name}, key).requireError(t, http.StatusConflict, "name_taken", "")
		}
		inner := s.mkFolder(key, "photos", photosID)
		require.Equal(t, photosID, inner["parentId"])
		s.do("POST", "/api/drive", map[string]any{"name": "PHOTOS", "parentId": photosID}, key).requireError(t, http.StatusConflict, "name_taken", "")
		// A file may share a folder's name.
		file := s.mustDriveUpload("", "Photos", []byte("not a folder"), key)
		require.Equal(t, "Photos", file["name"])
		require.Nil(t, file["parentId"])

		// The session sees what the key sees.
		sess := withSession(a.session)
		folders, files := s.driveListing("", sess)
		require.Equal(t, []string{"Photos"}, folders)
		require.Equal(t, []string{"Photos"}, files)
		folders, files = s.driveListing("?parentId="+photosID, key)
		require.Equal(t, []string{"photos"}, folders)
		require.Empty(t, files)
		folders, _ = s.driveListing("?parentId="+inner["id"].(string), key)
		require.Empty(t, folders)
		created := s.mkFolder(sess, "From the browser", inner["id"].(string))
		require.Equal(t, inner["id"], created["parentId"])

		// GET the folder item: with or without ?type= (the id's prefix).
		for _, path := range []string{itemURL(core.DriveFolderKind, photosID), "/api/drive/items/" + photosID} {
			r := s.do("GET", path, nil, key)
			require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
			m := r.json(t)
			require.Equal(t, photosID, m["id"])
			require.Equal(t, "folder", m["type"])
			require.Nil(t, m["url"])
		}
		// Names are cleaned and checked.
		spaced := s.mkFolder(key, "  Spaced  ", "")
		require.Equal(t, "Spaced", spaced["name"])
		longest := strings.Repeat("é", 127) + "x" // 255 bytes
		require.Equal(t, longest, s.mkFolder(key, longest, photosID)["name"])
		for _, bad := range []any{"", "   ", ".", "..", "a/b", `a\b`, "bad\x00name", "two\nlines", "tab\there", "cr\rlf", "bidi\u202eexe",
			strings.Repeat("n", 256), strings.Repeat("é", 128), 42, nil} {
			s.do("POST", "/api/drive", map[string]any{"name": bad}, key).requireError(t, http.StatusBadRequest, "invalid_request", "")
		}
		s.do("POST", "/api/drive", `{"name":`, key).requireError(t, http.StatusBadRequest, "invalid_request", "")
		s.do("POST", "/api/drive", map[string]any{"name": "x", "parentId": 7}, key).requireError(t, http.StatusBadRequest, "invalid_request", "")
		// Unknown parents are 404, a file's id included.
		for _, parent := range []string{"fld_00000000000000000000000000", file["id"].(string), "no such id!"} {
			s.do("POST", "/api/drive", map[string]any{"name": "x", "parentId": parent}, key).requireError(t, http.StatusNotFound, "not_found", "")
		}
		folders, _ = s.driveListing("", key)
		require.Equal(t, []string{"Photos", "Spaced"}, folders, "refused requests created nothing")
	})
}

func TestDrivePagination(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		s := newTestServer(t, backend, options{})
		a := s.register(uniqueEmail("pages"))
		key := withKey(a.driveKey)
		parent := s.mkFolder(key, "Big", "")["id"].(string)
		// Names whose byte order differs from a locale's: punctuation,
		// case, non-ASCII.
		folderNames := []string{"b", "A", "a-c", "ab", "a_b", "Zeta", "élan"}
		fileNames := []string{"z.txt", "B.txt", "a.txt", "Ä.txt", "10.txt", "9.txt", "a b.txt", "a-b.txt"}
		for _, n := range folderNames {
			s.mkFolder(key, n, parent)
		}
		for _, n := range fileNames {
			s.mustDriveUpload(parent, n, []byte(n), key)
		}
		q := url.Values{"parentId": {parent}}

		all, allFiles, pages := s.drivePages("/api/drive", q, 0, key)
		require.Equal(t, 1, pages)
		require.Len(t, all, len(folderNames))
		require.Len(t, allFiles, len(fileNames))
		requireListOrder(t, all)
		requireListOrder(t, allFiles)

		for _, limit := range []int{1, 2, 3, 6, 7, 8, 14, 15, 1000} {
			folders, files, pages := s.drivePages("/api/drive", q, limit, key)
			require.Equal(t, ids(all), ids(folders), "limit %d", limit)
			require.Equal(t, ids(allFiles), ids(files), "limit %d", limit)
			require.Equal(t, max(1, (len(all)+len(allFiles)+limit-1)/limit), pages, "limit %d: a full last page ends the listing", limit)
		}

		t.Run("stable_while_the_folder_changes", func(t *testing.T) {
			r := s.do("GET", "/api/drive?parentId="+parent+"&limit=3", nil, key)
			require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
			first := r.json(t)
			cursor := first["nextCursor"].(string)
			// A folder sorting before the cursor and one after it.
			s.mkFolder(key, "0 first", parent)
			s.mkFolder(key, "zz last", parent)
			q := url.Values{"parentId": {parent}, "cursor": {cursor}}
			folders, files, _ := s.drivePages("/api/drive", q, 3, key)
			seen := append(names(first["folders"]), names(folders)...)
			require.NotContains(t, seen, "0 first")
			require.Contains(t, seen, "zz last")
			for _, n := range folderNames {
				require.Equal(t, 1, strings.Count("\x00"+strings.Join(seen, "\x00")+"\x00", "\x00"+n+"\x00"), "%q listed once", n)
			}
			require.Len(t, files, len(fileNames))
		})

		t.Run("bad_cursors_and_limits_are_400", func(t *testing.T) {
			for _, limit := range []string{"0", "-1", "1001", "abc", "1.5", "99999999999999999999"} {
				s.do("GET", "/api/drive?limit="+limit, nil, key).requireError(t, http.StatusBadRequest, "invalid_request", "limit")
			}
			for _, cursor := range []string{"!!!", "bm90IGEgY3Vyc29y", strings.Repeat("A", 3000)} {
				s.do("GET", "/api/drive?cursor="+url.QueryEscape(cursor), nil, key).requireError(t, http.StatusBadRequest, "invalid_request", "cursor")
			}
			s.do("GET", "/api/drive?includeIntegrationAppFolders=maybe", nil, key).requireError(t, http.StatusBadRequest, "invalid_request", "includeIntegrationAppFolders")
		})

		t.Run("unknown_or_trashed_parents", func(t *testing.T) {
			s.do("GET", "/api/drive?parentId=fld_00000000000000000000000000", nil, key).requireError(t, http.StatusNotFound, "not_found", "")
			s.do("GET", "/api/drive?parentId="+allFiles[0]["id"].(string), nil, key).requireError(t, http.StatusNotFound, "not_found", "")
			gone := s.mkFolder(key, "Gone", "")["id"].(string)
			require.Equal(t, http.StatusNoContent, s.do("DELETE", itemURL(core.DriveFolderKind, gone), nil, key).status)
			s.do("GET", "/api/drive?parentId="+gone, nil, key).requireError(t, http.StatusConflict, "in_trash", "")
		})
	})
}

func TestDriveUploadsAndMedia(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		s := newTestServer(t, backend, options{})
		a := s.register(uniqueEmail("files"))
		key := withKey(a.driveKey)
		docs := s.mkFolder(key, "Docs", "")["id"].(string)

		// Proxy uploads: to the root and to a folder; a clash is numbered.
		root := s.mustDriveUpload("", "report.pdf", []byte("root report"), key)
		require.True(t, strings.HasPrefix(root["id"].(string), "file_"), "id %v", root["id"])
		require.Equal(t, "file", root["type"])
		require.Nil(t, root["parentId"])
		require.EqualValues(t, len("root report"), root["sizeBytes"])
		driveMediaPath(t, root)
		in := s.mustDriveUpload(docs, "report.pdf", []byte("docs report"), key)
		require.Equal(t, docs, in["parentId"])
		require.Equal(t, "report.pdf", in["name"])
		again := s.mustDriveUpload(docs, "REPORT.pdf", []byte("docs report 2"), key)
		require.Equal(t, "REPORT (1).pdf", again["name"])
		third := s.mustDriveUpload(docs, "report.pdf", []byte("docs report 3"), withSession(a.session))
		require.Equal(t, "report (2).pdf", third["name"])

		// Presigned: presign, PUT, complete; twice is the same record,
		// counted once.
		content := bytes.Repeat([]byte("0123456789"), 100) // 1000 bytes
		before := s.driveUsed(key)
		complete, rec := s.drivePresigned(docs, "photo.jpg", "image/jpeg", content, nil, key)
		require.Equal(t, docs, rec["parentId"])
		require.Equal(t, "image/jpeg", rec["contentType"])
		require.EqualValues(t, len(content), rec["sizeBytes"])
		require.True(t, strings.HasPrefix(rec["storageKey"].(string), "drive/"+s.driveOf(a.profileID)+"/"), "key %v", rec["storageKey"])
		r := s.do("POST", "/api/drive/upload/complete", complete, key)
		require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
		require.Equal(t, rec["id"], r.json(t)["id"], "completing twice returns the same record")
		require.Equal(t, before+float64(len(content)), s.driveUsed(key), "counted once")
		// Presigned to the root.
		_, rootRec := s.drivePresigned("", "root.jpg", "image/jpeg", []byte("jpeg"), nil, key)
		require.Nil(t, rootRec["parentId"])

		_, files := s.driveListing("?parentId="+docs, key)
		require.Equal(t, []string{"photo.jpg", "REPORT (1).pdf", "report (2).pdf", "report.pdf"}, files)

		st := s.do("GET", "/api/drive/storage", nil, key).json(t)
		used := len("root report") + len("docs report") + len("docs report 2") + len("docs report 3") + len(content) + len("jpeg")
		require.EqualValues(t, used, st["usedBytes"])
		require.EqualValues(t, 10<<30, st["limitBytes"])
		require.Equal(t, st, s.do("GET", "/api/drive/storage", nil, withSession(a.session)).json(t))

		// GET the file item: metadata with a media link.
		r = s.do("GET", itemURL(core.DriveFileKind, rec["id"].(string)), nil, key)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		item := r.json(t)
		require.Equal(t, "photo.jpg", item["name"])
		require.Equal(t, docs, item["parentId"])
		require.NotEmpty(t, item["urlExpiresAt"])
		path := driveMediaPath(t, item)
		require.Equal(t, "no-store", r.header.Get("Cache-Control"))

		full := s.do("GET", path, nil)
		require.Equal(t, http.StatusOK, full.status, "body: %s", full.body)
		require.Equal(t, content, full.body)
		require.Equal(t, "image/jpeg", full.header.Get("Content-Type"))
		require.Equal(t, "bytes", full.header.Get("Accept-Ranges"))
		require.Equal(t, strconv.Itoa(len(content)), full.header.Get("Content-Length"))
		require.Contains(t, full.header.Get("Content-Disposition"), `filename="photo.jpg"`)
		etag := full.header.Get("ETag")
		require.NotEmpty(t, etag)

		part := s.do("GET", path, nil, withHeader("Range", "bytes=10-19"))
		require.Equal(t, http.StatusPartialContent, part.status)
		require.Equal(t, content[10:20], part.body)
		require.Equal(t, fmt.Sprintf("bytes 10-19/%d", len(content)), part.header.Get("Content-Range"))
		part = s.do("GET", path, nil, withHeader("Range", "bytes=-5"))
		require.Equal(t, http.StatusPartialContent, part.status)
		require.Equal(t, content[len(content)-5:], part.body)
		s.do("GET", path, nil, withHeader("Range", "bytes=5000-")).requireError(t, http.StatusRequestedRangeNotSatisfiable, "range_not_satisfiable", "Range")
		nm := s.do("GET", path, nil, withHeader("If-None-Match", etag))
		require.Equal(t, http.StatusNotModified, nm.status)
		require.Empty(t, nm.body)
		require.Equal(t, http.StatusOK, s.do("GET", path, nil, withHeader("If-None-Match", `"other"`)).status)
		head := s.do("HEAD", path, nil)
		require.Equal(t, http.StatusOK, head.status)
		require.Equal(t, strconv.Itoa(len(content)), head.header.Get("Content-Length"))

		// Listed files carry working links too.
		_, listed, _ := s.drivePages("/api/drive", url.Values{"parentId": {docs}}, 0, key)
		for _, f := range listed {
			r := s.do("GET", driveMediaPath(t, f), nil)
			require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
			require.EqualValues(t, f["sizeBytes"], len(r.body))
		}

		// Tokens: forged, expired, and the gallery's are refused.
		s.do("GET", "/api/drive/media", nil).requireError(t, http.StatusBadRequest, "invalid_request", "t")
		s.do("GET", "/api/drive/media?t=garbage", nil).requireError(t, http.StatusForbidden, "forbidden", "")
		colID := s.createCollection(withKey(a.apiKey), "Shoot")
		gal := s.proxyUpload(withKey(a.apiKey), colID, "g.jpg", []byte("gallery"))
		require.Equal(t, http.StatusCreated, gal.status, "body: %s", gal.body)
		galFile := s.listedFile(withKey(a.apiKey), colID, gal.json(t)["id"].(string))
		s.do("GET", "/api/drive/media?t="+url.QueryEscape(galFile["mediaToken"].(string)), nil).requireError(t, http.StatusForbidden, "forbidden", "")
		s.do("GET", "/api/media?t="+url.QueryEscape(item["mediaToken"].(string)), nil).requireError(t, http.StatusForbidden, "forbidden", "")
		s.clock.Advance(drive.DefaultMediaTTL + time.Second)
		s.do("GET", path, nil).requireError(t, http.StatusForbidden, "forbidden", "")
		fresh := s.do("GET", itemURL(core.DriveFileKind, rec["id"].(string)), nil, key).json(t)
		require.Equal(t, http.StatusOK, s.do("GET", driveMediaPath(t, fresh), nil).status)
	})
}

func TestDriveRenameAndMove(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		s := newTestServer(t, backend, options{})
		a := s.register(uniqueEmail("move"))
		key := withKey(a.driveKey)
		top := s.mkFolder(key, "Top", "")["id"].(string)
		mid := s.mkFolder(key, "Mid", top)["id"].(string)
		low := s.mkFolder(key, "Low", mid)["id"].(string)
		other := s.mkFolder(key, "Other", "")["id"].(string)
		file := s.mustDriveUpload(low, "notes.txt", []byte("notes"), key)["id"].(string)
		patch := func(kind core.DriveItemKind, id string, body any) reply {
			return s.do("PATCH", itemURL(kind, id), body, key)
		}
		ok := func(r reply) map[string]any {
			t.Helper()
			require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
			return r.json(t)
		}

		// Rename, in any case, then back.
		m := ok(patch(core.DriveFileKind, file, map[string]any{"name": "Notes.TXT"}))
		require.Equal(t, "Notes.TXT", m["name"])
		require.Equal(t, low, m["parentId"])
		require.NotEmpty(t, m["url"], "a file's answer carries its link")
		m = ok(patch(core.DriveFolderKind, mid, map[string]any{"name": "middle"}))
		require.Equal(t, "middle", m["name"])
		require.Equal(t, top, m["parentId"])

		// Move a file between folders, then to the root with null.
		m = ok(patch(core.DriveFileKind, file, map[string]any{"targetFolderId": other}))
		require.Equal(t, other, m["parentId"])
		m = ok(patch(core.DriveFileKind, file, map[string]any{"targetFolderId": nil, "name": "root notes.txt"}))
		require.Nil(t, m["parentId"])
		require.Equal(t, "root notes.txt", m["name"])
		// Move a folder (its subtree follows), then to the root.
		m = ok(s.do("PATCH", itemURL(core.DriveFolderKind, mid), map[string]any{"targetFolderId": other}, withSession(a.session)))
		require.Equal(t, other, m["parentId"])
		folders, _ := s.driveListing("?parentId="+other, key)
		require.Equal(t, []string{"middle"}, folders)
		folders, _ = s.driveListing("?parentId="+mid, key)
		require.Equal(t, []string{"Low"}, folders)
		m = ok(patch(core.DriveFolderKind, mid, map[string]any{"targetFolderId": nil}))
		require.Nil(t, m["parentId"])
		// Moving where it already is changes nothing and is fine.
		ok(patch(core.DriveFolderKind, mid, map[string]any{"targetFolderId": nil}))

		// A folder into itself or a descendant is 400.
		for _, target := range []string{mid, low} {
			patch(core.DriveFolderKind, mid, map[string]any{"targetFolderId": target}).requireError(t, http.StatusBadRequest, "invalid_request", "targetFolderId")
		}
		deeper := s.mkFolder(key, "Deeper", low)["id"].(string)
		patch(core.DriveFolderKind, mid, map[string]any{"targetFolderId": deeper}).requireError(t, http.StatusBadRequest, "invalid_request", "targetFolderId")
		// The item must be given a change; bad values are 400.
		patch(core.DriveFolderKind, mid, map[string]any{}).requireError(t, http.StatusBadRequest, "invalid_request", "")
		patch(core.DriveFolderKind, mid, map[string]any{"targetFolderId": ""}).requireError(t, http.StatusBadRequest, "invalid_request", "targetFolderId")
		patch(core.DriveFolderKind, mid, map[string]any{"targetFolderId": 12}).requireError(t, http.StatusBadRequest, "invalid_request", "targetFolderId")
		for _, name := range []any{"", "a/b", "..", "evil\r\nX-Injected: yes", strings.Repeat("é", 200), 3} {
			patch(core.DriveFolderKind, mid, map[string]any{"name": name}).requireError(t, http.StatusBadRequest, "invalid_request", "")
		}
		patch(core.DriveFolderKind, mid, `{"name":`).requireError(t, http.StatusBadRequest, "invalid_request", "")
		// Clashes are 409 name_taken, in any case and on a move.
		s.mkFolder(key, "Taken", "")
		patch(core.DriveFolderKind, mid, map[string]any{"name": "TAKEN"}).requireError(t, http.StatusConflict, "name_taken", "")
		s.mkFolder(key, "middle", other)
		patch(core.DriveFolderKind, mid, map[string]any{"targetFolderId": other}).requireError(t, http.StatusConflict, "name_taken", "")
		s.mustDriveUpload(other, "root notes.txt", []byte("twin"), key)
		patch(core.DriveFileKind, file, map[string]any{"targetFolderId": other}).requireError(t, http.StatusConflict, "name_taken", "")
		// A case-only rename of itself is no clash.
		m = ok(patch(core.DriveFolderKind, mid, map[string]any{"name": "Middle"}))
		require.Equal(t, "Middle", m["name"])
		// Unknown targets are 404; a file is no target.
		for _, target := range []string{"fld_00000000000000000000000000", file, "bad id!"} {
			patch(core.DriveFolderKind, mid, map[string]any{"targetFolderId": target}).requireError(t, http.StatusNotFound, "not_found", "")
		}
		// Into a trashed folder, or a trashed item, is 409 in_trash.
		bin := s.mkFolder(key, "Bin", "")["id"].(string)
		require.Equal(t, http.StatusNoContent, s.do("DELETE", itemURL(core.DriveFolderKind, bin), nil, key).status)
		patch(core.DriveFileKind, file, map[string]any{"targetFolderId": bin}).requireError(t, http.StatusConflict, "in_trash", "")
		patch(core.DriveFolderKind, bin, map[string]any{"name": "Back"}).requireError(t, http.StatusConflict, "in_trash", "")
		// Wrong kind or type.
		patch(core.DriveFolderKind, file, map[string]any{"name": "x"}).requireError(t, http.StatusNotFound, "not_found", "")
		s.do("PATCH", "/api/drive/items/"+mid+"?type=dir", map[string]any{"name": "x"}, key).requireError(t, http.StatusBadRequest, "invalid_request", "type")
		s.do("PATCH", "/api/drive/items/xyz", map[string]any{"name": "x"}, key).requireError(t, http.StatusBadRequest, "invalid_request", "type")

		// Nothing refused moved anything.
		folders, files := s.driveListing("", key)
		require.Equal(t, []string{"Middle", "Other", "Taken", "Top"}, folders)
		require.Equal(t, []string{"root notes.txt"}, files)
		folders, _ = s.driveListing("?parentId="+low, key)
		require.Equal(t, []string{"Deeper"}, folders)
	})
}
