package httpapi

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
)

// createCollection creates a collection through the API and returns its id.
func (s *testServer) createCollection(key reqOpt, name string) string {
	s.t.Helper()
	r := s.do("POST", "/api/collections", map[string]any{"name": name, "clientName": "John Doe", "date": "2024-06-15"}, key)
	require.Equal(s.t, http.StatusCreated, r.status, "body: %s", r.body)
	return r.json(s.t)["id"].(string)
}

// presignBody is a presign or complete request of size bytes.
func presignBody(colID, name, contentType string, size int) map[string]any {
	return map[string]any{"collectionId": colID, "clientName": "John Doe", "fileName": name, "contentType": contentType, "sizeBytes": size}
}

// presign asks for a presigned PUT and returns the response.
func (s *testServer) presign(key reqOpt, colID, name, contentType string, size int) map[string]any {
	s.t.Helper()
	r := s.do("POST", "/api/upload/presign", presignBody(colID, name, contentType, size), key)
	require.Equal(s.t, http.StatusOK, r.status, "body: %s", r.body)
	return r.json(s.t)
}

// completeBody is the complete request for a presign response.
func completeBody(colID, name, contentType string, size int, pre map[string]any) map[string]any {
	b := presignBody(colID, name, contentType, size)
	b["storageKey"] = pre["storageKey"]
	return b
}

// proxyUpload sends content through POST /api/upload.
func (s *testServer) proxyUpload(key reqOpt, colID, name string, content []byte) reply {
	s.t.Helper()
	ct, body := multipartUpload(s.t, map[string]string{"collectionId": colID}, name, content)
	return s.rawDoC("POST", "/api/upload", ct, body, key)
}

// sendRaw sends req through the app. net/http moves a response's
// "Connection: close" header to res.Close: it is put back in the header.
func (s *testServer) sendRaw(req *http.Request, opts ...reqOpt) reply {
	s.t.Helper()
	for _, o := range opts {
		o(req)
	}
	res, err := s.app.Test(req, -1)
	require.NoError(s.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(s.t, err)
	if res.Close {
		res.Header.Set("Connection", "close")
	}
	return reply{status: res.StatusCode, header: res.Header, body: raw}
}

// rawDoC is rawDo that reports a closed connection (Connection: close).
func (s *testServer) rawDoC(method, path, contentType string, body []byte, opts ...reqOpt) reply {
	s.t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	return s.sendRaw(req, opts...)
}

// chunked sends body with Transfer-Encoding: chunked (no Content-Length).
func (s *testServer) chunked(method, path, contentType string, body []byte, opts ...reqOpt) reply {
	s.t.Helper()
	req := httptest.NewRequest(method, path, io.NopCloser(bytes.NewReader(body)))
	req.ContentLength = -1
	req.TransferEncoding = []string{"chunked"}
	req.Header.Set("Content-Type", contentType)
	return s.sendRaw(req, opts...)
}

// galleryRoutes are every Client Gallery route with a valid-looking body.
func galleryRoutes(colID string) []struct {
	method, path string
	body         any
} {
	return []struct {
		method, path string
		body         any
	}{
		{"GET", "/api/collections", nil},
		{"POST", "/api/collections", map[string]any{"name": "x"}},
		{"GET", "/api/collections/" + colID + "/files", nil},
		{"GET", "/api/categories", nil},
		{"POST", "/api/categories", map[string]any{"name": "x"}},
		{"POST", "/api/upload/presign", presignBody(colID, "a.jpg", "image/jpeg", 3)},
		{"POST", "/api/upload/complete", completeBody(colID, "a.jpg", "image/jpeg", 3, map[string]any{"storageKey": "clientGallery/x/up_x/a.jpg"})},
		{"GET", "/api/studio/storage", nil},
		{"POST", "/api/upload", nil}, // multipart, below
	}
}

func TestGalleryAuth(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, "memory", options{})
	a := s.register(uniqueEmail("auth"))
	colID := s.createCollection(withKey(a.apiKey), "Shoot")

	send := func(method, path string, body any, opts ...reqOpt) reply {
		if path == "/api/upload" {
			ct, raw := multipartUpload(t, map[string]string{"collectionId": colID}, "a.jpg", []byte("abc"))
			return s.rawDo(method, path, ct, raw, opts...)
		}
		return s.do(method, path, body, opts...)
	}
	for _, rt := range galleryRoutes(colID) {
		t.Run(strings.ReplaceAll(rt.method+rt.path, "/", "_"), func(t *testing.T) {
			send(rt.method, rt.path, rt.body).requireError(t, http.StatusUnauthorized, "unauthorized", "")
			send(rt.method, rt.path, rt.body, withKey("sk_"+strings.Repeat("a", 40))).requireError(t, http.StatusUnauthorized, "unauthorized", "")
			send(rt.method, rt.path, rt.body, withKey("not-a-key")).requireError(t, http.StatusUnauthorized, "unauthorized", "")
			send(rt.method, rt.path, rt.body, withSession("forged-session")).requireError(t, http.StatusUnauthorized, "unauthorized", "")
			send(rt.method, rt.path, rt.body, withKey(a.driveKey)).requireError(t, http.StatusForbidden, "forbidden", "")
			// A drive key never reaches another studio's data either: the key
			// wins over a valid session cookie sent alongside.
			send(rt.method, rt.path, rt.body, withKey(a.driveKey), withSession(a.session)).requireError(t, http.StatusForbidden, "forbidden", "")
		})
	}
	t.Run("the_session_works_like_the_key", func(t *testing.T) {
		r := s.do("GET", "/api/collections", nil, withSession(a.session))
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		require.Len(t, r.list(t), 1)
		r = s.do("GET", "/api/studio/storage", nil, withSession(a.session))
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	})
	t.Run("refused_requests_change_nothing", func(t *testing.T) {
		require.Len(t, s.do("GET", "/api/collections", nil, withKey(a.apiKey)).list(t), 1)
		require.Empty(t, s.do("GET", "/api/categories", nil, withKey(a.apiKey)).list(t))
		require.Zero(t, s.usedBytes(withKey(a.apiKey)))
		u, err := s.quota.Usage(context.Background(), s.studioOf(a))
		require.NoError(t, err)
		require.Equal(t, core.Usage{}, u)
	})
}

// studioOf returns the account's studio id.
func (s *testServer) studioOf(a account) string {
	s.t.Helper()
	p, err := s.store.ProfileByEmail(context.Background(), strings.ToLower(a.email))
	require.NoError(s.t, err)
	st, err := s.store.StudioByProfile(context.Background(), p.ID)
	require.NoError(s.t, err)
	return st.ID
}

func TestGalleryValidation(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, "memory", options{maxFileBytes: 1000})
	a := s.register(uniqueEmail("valid"))
	other := s.register(uniqueEmail("other"))
	key := withKey(a.apiKey)
	colID := s.createCollection(key, "Shoot")
	otherCol := s.createCollection(withKey(other.apiKey), "Theirs")
	cat := s.do("POST", "/api/categories", map[string]any{"name": "Weddings"}, key)
	require.Equal(t, http.StatusCreated, cat.status, "body: %s", cat.body)
	otherCat := s.do("POST", "/api/categories", map[string]any{"name": "Weddings"}, withKey(other.apiKey)).json(t)["id"]

	t.Run("bad_json_is_400_naming_the_field", func(t *testing.T) {
		for _, path := range []string{"/api/collections", "/api/categories", "/api/upload/presign", "/api/upload/complete"} {
			s.do("POST", path, "{", key).requireError(t, http.StatusBadRequest, "invalid_request", "body")
			s.do("POST", path, "", key).requireError(t, http.StatusBadRequest, "invalid_request", "body")
			s.do("POST", path, "[]", key).requireError(t, http.StatusBadRequest, "invalid_request", "body")
			s.do("POST", path, `{"name":"a"} {"name":"b"}`, key).requireError(t, http.StatusBadRequest, "invalid_request", "body")
			s.do("POST", path, `{"name":"a","name":"b"}`, key).requireError(t, http.StatusBadRequest, "invalid_request", "name")
			s.rawDo("POST", path, "text/plain", []byte(`{"name":"a"}`), key).requireError(t, http.StatusBadRequest, "invalid_request", "Content-Type")
		}
	})

	t.Run("json_bodies_past_the_prefetch_and_chunked", func(t *testing.T) {
		// fasthttp reads 8 KiB before the handler; the rest streams.
		pad := strings.Repeat("p", 30<<10)
		r := s.do("POST", "/api/collections", map[string]any{"name": "Padded", "ignored": pad}, key)
		require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
		r = s.chunked("POST", "/api/collections", "application/json", []byte(`{"name":"Chunked"}`), key)
		require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
		r = s.chunked("POST", "/api/collections", "application/json", []byte(`{"name":"Too big","ignored":"`+strings.Repeat("p", 70<<10)+`"}`), key)
		r.requireError(t, http.StatusRequestEntityTooLarge, "payload_too_large", "")
		require.Equal(t, "close", r.header.Get("Connection"))
		r = s.rawDoC("POST", "/api/collections", "application/json", []byte(`{"name":"Too big","ignored":"`+strings.Repeat("p", 70<<10)+`"}`), key)
		r.requireError(t, http.StatusRequestEntityTooLarge, "payload_too_large", "")
		require.Equal(t, "close", r.header.Get("Connection"))
		names := map[string]bool{}
		for _, c := range s.do("GET", "/api/collections", nil, key).list(t) {
			names[c["name"].(string)] = true
		}
		require.True(t, names["Padded"] && names["Chunked"] && !names["Too big"])
	})

	t.Run("collections", func(t *testing.T) {
		cases := []struct {
			body   any
			detail string
		}{
			{map[string]any{"clientName": "x"}, "name"},
			{map[string]any{"name": 5}, "name"},
			{map[string]any{"name": strings.Repeat("n", 121)}, "name"},
			{map[string]any{"name": "n", "clientName": []string{"x"}}, "clientName"},
			{map[string]any{"name": "n", "date": "15/06/2024"}, "date"},
			{map[string]any{"name": "n", "date": "2024-02-30"}, "date"},
			{map[string]any{"name": "n", "date": 20240615}, "date"},
			{map[string]any{"name": "n", "categoryId": "cat_nope"}, "categoryId"},
			{map[string]any{"name": "n", "categoryId": otherCat}, "categoryId"},
			{map[string]any{"name": "n", "categoryId": strings.Repeat("c", 65)}, "categoryId"},
		}
		for _, tc := range cases {
			s.do("POST", "/api/collections", tc.body, key).requireError(t, http.StatusBadRequest, "invalid_request", tc.detail)
		}
		ok := s.do("POST", "/api/collections", map[string]any{"name": "With cat", "categoryId": cat.json(t)["id"], "date": "2024-02-29"}, key)
		require.Equal(t, http.StatusCreated, ok.status, "body: %s", ok.body)
		m := ok.json(t)
		require.Equal(t, cat.json(t)["id"], m["categoryId"])
		require.Equal(t, "2024-02-29", m["date"])
		bare := s.do("POST", "/api/collections", map[string]any{"name": "Bare"}, key).json(t)
		require.Nil(t, bare["date"], "absent optional fields are null")
		require.Nil(t, bare["categoryId"])
	})

	t.Run("categories", func(t *testing.T) {
		s.do("POST", "/api/categories", map[string]any{}, key).requireError(t, http.StatusBadRequest, "invalid_request", "name")
		s.do("POST", "/api/categories", map[string]any{"name": "  "}, key).requireError(t, http.StatusBadRequest, "invalid_request", "name")
		s.do("POST", "/api/categories", map[string]any{"name": true}, key).requireError(t, http.StatusBadRequest, "invalid_request", "name")
		s.do("POST", "/api/categories", map[string]any{"name": "weddings"}, key).requireError(t, http.StatusConflict, "category_exists", "")
		s.do("POST", "/api/categories", map[string]any{"name": "WEDDINGS"}, key).requireError(t, http.StatusConflict, "category_exists", "")
		require.Len(t, s.do("GET", "/api/categories", nil, key).list(t), 1)
	})

	t.Run("presign", func(t *testing.T) {
		cases := []struct {
			mutate func(map[string]any)
			status int
			code   string
			detail string
		}{
			{func(m map[string]any) { delete(m, "collectionId") }, 400, "invalid_request", "collectionId"},
			{func(m map[string]any) { m["collectionId"] = 7 }, 400, "invalid_request", "collectionId"},
			{func(m map[string]any) { m["collectionId"] = "col_nope" }, 404, "not_found", ""},
			{func(m map[string]any) { m["collectionId"] = otherCol }, 404, "not_found", ""},
			{func(m map[string]any) { m["clientName"] = strings.Repeat("c", 121) }, 400, "invalid_request", "clientName"},
			{func(m map[string]any) { delete(m, "fileName") }, 400, "invalid_request", "fileName"},
			{func(m map[string]any) { m["fileName"] = strings.Repeat("f", 1025) }, 400, "invalid_request", "fileName"},
			{func(m map[string]any) { delete(m, "contentType") }, 400, "invalid_request", "contentType"},
			{func(m map[string]any) { m["contentType"] = "jpeg" }, 400, "invalid_request", "contentType"},
			{func(m map[string]any) { m["contentType"] = "image/jpeg\r\nX-Evil: 1" }, 400, "invalid_request", "contentType"},
			{func(m map[string]any) { delete(m, "sizeBytes") }, 400, "invalid_request", "sizeBytes"},
			{func(m map[string]any) { m["sizeBytes"] = 0 }, 400, "invalid_request", "sizeBytes"},
			{func(m map[string]any) { m["sizeBytes"] = -5 }, 400, "invalid_request", "sizeBytes"},
			{func(m map[string]any) { m["sizeBytes"] = "10" }, 400, "invalid_request", "sizeBytes"},
			{func(m map[string]any) { m["sizeBytes"] = 1.5 }, 400, "invalid_request", "sizeBytes"},
			{func(m map[string]any) { m["sizeBytes"] = 1e30 }, 400, "invalid_request", "sizeBytes"},
			{func(m map[string]any) { m["sizeBytes"] = 1001 }, 413, "payload_too_large", "sizeBytes"},
		}
		for i, tc := range cases {
			body := presignBody(colID, "a.jpg", "image/jpeg", 10)
			tc.mutate(body)
			r := s.do("POST", "/api/upload/presign", body, key)
			require.Equal(t, tc.status, r.status, "case %d: %s", i, r.body)
			r.requireError(t, tc.status, tc.code, tc.detail)
		}
		u, err := s.quota.Usage(context.Background(), s.studioOf(a))
		require.NoError(t, err)
		require.Equal(t, core.Usage{}, u, "refused presigns reserve nothing")

		ok := s.do("POST", "/api/upload/presign", presignBody(colID, "a.jpg", "image/jpeg", 1000), key)
		require.Equal(t, http.StatusOK, ok.status, "body: %s", ok.body)
		require.Equal(t, "no-store", ok.header.Get("Cache-Control"))
		m := ok.json(t)
		for _, k := range []string{"uploadUrl", "storageKey", "headers", "expiresAt"} {
			require.NotEmpty(t, m[k], k)
		}
		exp, err := time.Parse(time.RFC3339, m["expiresAt"].(string))
		require.NoError(t, err)
		require.LessOrEqual(t, exp.Sub(s.clock.Now()), time.Hour)
	})

	t.Run("complete_field_errors", func(t *testing.T) {
		pre := s.presign(key, colID, "c.jpg", "image/jpeg", 10)
		base := func() map[string]any { return completeBody(colID, "c.jpg", "image/jpeg", 10, pre) }
		cases := []struct {
			mutate func(map[string]any)
			detail string
		}{
			{func(m map[string]any) { delete(m, "storageKey") }, "storageKey"},
			{func(m map[string]any) { m["storageKey"] = 12 }, "storageKey"},
			{func(m map[string]any) { m["sizeBytes"] = "10" }, "sizeBytes"},
			{func(m map[string]any) { delete(m, "fileName") }, "fileName"},
			{func(m map[string]any) { m["contentType"] = "nope" }, "contentType"},
			{func(m map[string]any) { delete(m, "collectionId") }, "collectionId"},
		}
		for _, tc := range cases {
			body := base()
			tc.mutate(body)
			s.do("POST", "/api/upload/complete", body, key).requireError(t, http.StatusBadRequest, "invalid_request", tc.detail)
		}
		s.do("POST", "/api/upload/complete", func() map[string]any { m := base(); m["collectionId"] = "col_nope"; return m }(), key).
			requireError(t, http.StatusNotFound, "not_found", "")
	})

	t.Run("limit_and_cursor", func(t *testing.T) {
		for _, path := range []string{"/api/collections", "/api/collections/" + colID + "/files"} {
			for _, q := range []string{"limit=abc", "limit=0", "limit=-1", "limit=1001", "limit=1.5", "limit=100000000", "limit=1&limit=2", "limit="} {
				r := s.do("GET", path+"?"+q, nil, key)
				if q == "limit=" {
					require.Equal(t, http.StatusOK, r.status, "an empty limit is the default: %s", r.body)
					continue
				}
				r.requireError(t, http.StatusBadRequest, "invalid_request", "limit")
			}
			for _, q := range []string{"cursor=a%2Fb", "cursor=a%3Fb", "cursor=a%20b", "cursor=" + strings.Repeat("c", 65), "cursor=" + strings.Repeat("c", 200), "cursor=a&cursor=b"} {
				s.do("GET", path+"?"+q, nil, key).requireError(t, http.StatusBadRequest, "invalid_request", "cursor")
			}
			r := s.do("GET", path+"?limit=1000&cursor=zzz", nil, key)
			require.Equal(t, http.StatusOK, r.status, "an unknown cursor is just a position: %s", r.body)
			require.Empty(t, r.list(t))
		}
		s.do("GET", "/api/collections/col_nope/files", nil, key).requireError(t, http.StatusNotFound, "not_found", "")
		s.do("GET", "/api/collections/"+otherCol+"/files", nil, key).requireError(t, http.StatusNotFound, "not_found", "")
		s.do("GET", "/api/collections/"+strings.Repeat("c", 300)+"/files", nil, key).requireError(t, http.StatusNotFound, "not_found", "")
	})
}

func TestGalleryPagination(t *testing.T) {
	for _, gb := range galleryBackends {
		t.Run(gb.name, func(t *testing.T) {
			t.Parallel()
			s := newTestServer(t, gb.backend, gb.o)
			a := s.register(uniqueEmail("pages"))
			key := withKey(a.apiKey)
			var want []string
			for i := range 3 {
				want = append(want, s.createCollection(key, fmt.Sprintf("Shoot %d", i)))
				s.clock.Advance(time.Millisecond) // ids sort by creation time
			}
			colID := want[0]
			var files []string
			for i := range 3 {
				r := s.proxyUpload(key, colID, fmt.Sprintf("f%d.jpg", i), []byte("bytes"))
				require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
				files = append(files, r.json(t)["id"].(string))
				s.clock.Advance(time.Millisecond)
			}
			for _, tc := range []struct {
				path string
				want []string
			}{{"/api/collections", want}, {"/api/collections/" + colID + "/files", files}} {
				// limit=1: three pages, each pointing at the next.
				var got []string
				cursor := ""
				for page := 0; ; page++ {
					require.Less(t, page, 4, "pagination must end")
					q := tc.path + "?limit=1"
					if cursor != "" {
						q += "&cursor=" + cursor
					}
					r := s.do("GET", q, nil, key)
					require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
					items := r.list(t)
					require.Len(t, items, 1)
					got = append(got, items[0]["id"].(string))
					again := s.do("GET", q, nil, key)
					require.Equal(t, r.body, again.body, "a page is stable")
					require.Equal(t, r.header.Get("X-Next-Cursor"), again.header.Get("X-Next-Cursor"))
					cursor = r.header.Get("X-Next-Cursor")
					if cursor == "" {
						break
					}
					require.Equal(t, items[0]["id"], cursor, "the cursor is the last item's id")
				}
				require.Equal(t, tc.want, got, "every item once, in creation order")

				full := s.do("GET", tc.path+"?limit=3", nil, key)
				require.Len(t, full.list(t), 3)
				require.Empty(t, full.header.Get("X-Next-Cursor"), "an exactly full last page has no next cursor")
				two := s.do("GET", tc.path+"?limit=2", nil, key)
				require.Len(t, two.list(t), 2)
				require.Equal(t, tc.want[1], two.header.Get("X-Next-Cursor"))
				rest := s.do("GET", tc.path+"?limit=2&cursor="+two.header.Get("X-Next-Cursor"), nil, key)
				require.Len(t, rest.list(t), 1)
				require.Equal(t, tc.want[2], rest.list(t)[0]["id"])
				require.Empty(t, rest.header.Get("X-Next-Cursor"))
				def := s.do("GET", tc.path, nil, key)
				require.Len(t, def.list(t), 3)
				require.Empty(t, def.header.Get("X-Next-Cursor"))
			}
		})
	}
}

func TestGalleryProxyUploadErrors(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, "memory", options{maxFileBytes: 1 << 20})
	a := s.register(uniqueEmail("proxy"))
	key := withKey(a.apiKey)
	colID := s.createCollection(key, "Shoot")

	requireRefused := func(t *testing.T, r reply, status int, code, detail string) {
		t.Helper()
		r.requireError(t, status, code, detail)
		require.Equal(t, "close", r.header.Get("Connection"), "a refused upload closes the connection")
	}

	t.Run("without_content_length_is_400_length_required", func(t *testing.T) {
		ct, body := multipartUpload(t, map[string]string{"collectionId": colID}, "a.jpg", []byte("abc"))
		requireRefused(t, s.chunked("POST", "/api/upload", ct, body, key), http.StatusBadRequest, "length_required", "Content-Length")
	})

	t.Run("file_before_collection_id_is_400", func(t *testing.T) {
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		fw, err := w.CreateFormFile("file", "a.jpg")
		require.NoError(t, err)
		_, _ = fw.Write([]byte("abc"))
		require.NoError(t, w.WriteField("collectionId", colID))
		require.NoError(t, w.Close())
		requireRefused(t, s.rawDoC("POST", "/api/upload", w.FormDataContentType(), buf.Bytes(), key), http.StatusBadRequest, "invalid_request", "collectionId")
	})

	t.Run("not_multipart_is_400", func(t *testing.T) {
		requireRefused(t, s.rawDoC("POST", "/api/upload", "application/json", []byte(`{"collectionId":"x"}`), key), http.StatusBadRequest, "invalid_request", "Content-Type")
		requireRefused(t, s.rawDoC("POST", "/api/upload", "multipart/form-data", []byte("x"), key), http.StatusBadRequest, "invalid_request", "Content-Type")
	})

	t.Run("malformed_multipart_is_400", func(t *testing.T) {
		for _, body := range []string{
			"no boundary anywhere",
			"--XYZ\r\nContent-Disposition: form-data; name=\"collectionId\"\r\n\r\n" + colID, // never closed
			"--XYZ\r\nbroken header line\r\n\r\nx\r\n--XYZ--\r\n",
		} {
			r := s.rawDoC("POST", "/api/upload", "multipart/form-data; boundary=XYZ", []byte(body), key)
			require.Equal(t, http.StatusBadRequest, r.status, "body %q: %s", body, r.body)
			require.Equal(t, "invalid_request", r.json(t)["error"])
			require.Equal(t, "close", r.header.Get("Connection"))
		}
	})

	t.Run("missing_file_part_is_400_file", func(t *testing.T) {
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		require.NoError(t, w.WriteField("collectionId", colID))
		require.NoError(t, w.Close())
		requireRefused(t, s.rawDoC("POST", "/api/upload", w.FormDataContentType(), buf.Bytes(), key), http.StatusBadRequest, "invalid_request", "file")

		buf.Reset()
		w = multipart.NewWriter(&buf)
		require.NoError(t, w.WriteField("collectionId", colID))
		require.NoError(t, w.WriteField("file", "not a file part: no file name"))
		require.NoError(t, w.Close())
		requireRefused(t, s.rawDoC("POST", "/api/upload", w.FormDataContentType(), buf.Bytes(), key), http.StatusBadRequest, "invalid_request", "file")
	})

	t.Run("over_long_fields_are_400", func(t *testing.T) {
		ct, body := multipartUpload(t, map[string]string{"collectionId": strings.Repeat("c", 5000)}, "a.jpg", []byte("abc"))
		requireRefused(t, s.rawDoC("POST", "/api/upload", ct, body, key), http.StatusBadRequest, "invalid_request", "collectionId")
		ct, body = multipartUpload(t, map[string]string{"collectionId": colID, "clientName": strings.Repeat("n", 4097)}, "a.jpg", []byte("abc"))
		requireRefused(t, s.rawDoC("POST", "/api/upload", ct, body, key), http.StatusBadRequest, "invalid_request", "clientName")
		ct, body = multipartUpload(t, map[string]string{"collectionId": colID, "clientName": strings.Repeat("n", 121)}, "a.jpg", []byte("abc"))
		requireRefused(t, s.rawDoC("POST", "/api/upload", ct, body, key), http.StatusBadRequest, "invalid_request", "clientName")
		// Unknown fields are skipped, however long.
		ct, body = multipartUpload(t, map[string]string{"collectionId": colID, "extra": strings.Repeat("e", 100_000)}, "ok.jpg", []byte("abc"))
		r := s.rawDoC("POST", "/api/upload", ct, body, key)
		require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
	})

	t.Run("unknown_collection_is_404", func(t *testing.T) {
		requireRefused(t, s.proxyUpload(key, "col_nope", "a.jpg", []byte("abc")), http.StatusNotFound, "not_found", "")
		ct, body := multipartUpload(t, map[string]string{"collectionId": ""}, "a.jpg", []byte("abc"))
		requireRefused(t, s.rawDoC("POST", "/api/upload", ct, body, key), http.StatusBadRequest, "invalid_request", "collectionId")
	})

	t.Run("empty_file_is_400", func(t *testing.T) {
		requireRefused(t, s.proxyUpload(key, colID, "empty.jpg", nil), http.StatusBadRequest, "invalid_request", "file")
	})

	t.Run("file_over_the_per_file_limit_is_413", func(t *testing.T) {
		requireRefused(t, s.proxyUpload(key, colID, "big.bin", make([]byte, 1<<20+1)), http.StatusRequestEntityTooLarge, "payload_too_large", "file")
	})

	t.Run("a_bad_part_content_type_is_400", func(t *testing.T) {
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		require.NoError(t, w.WriteField("collectionId", colID))
		h := make(map[string][]string)
		h["Content-Disposition"] = []string{`form-data; name="file"; filename="a.jpg"`}
		h["Content-Type"] = []string{"jpeg"}
		pw, err := w.CreatePart(h)
		require.NoError(t, err)
		_, _ = pw.Write([]byte("abc"))
		require.NoError(t, w.Close())
		requireRefused(t, s.rawDoC("POST", "/api/upload", w.FormDataContentType(), buf.Bytes(), key), http.StatusBadRequest, "invalid_request", "file")
	})

	t.Run("nothing_was_stored_or_counted", func(t *testing.T) {
		files := s.do("GET", "/api/collections/"+colID+"/files", nil, key).list(t)
		require.Len(t, files, 1, "only the upload with an extra field")
		require.EqualValues(t, 3, s.usedBytes(key))
		u, err := s.quota.Usage(context.Background(), s.studioOf(a))
		require.NoError(t, err)
		require.Equal(t, core.Usage{UsedBytes: 3}, u)
	})
}
