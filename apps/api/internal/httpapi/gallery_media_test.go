package httpapi

import (
	"bytes"
	"fmt"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core/gallery"
	"github.com/gellhub/gellhub/core/uploads"
)

// mediaPath returns the path and query of a file record's media URL.
func mediaPath(t testing.TB, file map[string]any) string {
	t.Helper()
	u, err := url.Parse(file["url"].(string))
	require.NoError(t, err)
	require.Equal(t, "/api/media", u.Path)
	require.Equal(t, file["mediaToken"], u.Query().Get("t"))
	return u.RequestURI()
}

// listedFile returns the listed file of that id, with its media link.
func (s *testServer) listedFile(key reqOpt, colID, id string) map[string]any {
	s.t.Helper()
	r := s.do("GET", "/api/collections/"+colID+"/files", nil, key)
	require.Equal(s.t, http.StatusOK, r.status, "body: %s", r.body)
	for _, f := range r.list(s.t) {
		if f["id"] == id {
			return f
		}
	}
	s.t.Fatalf("file %s not listed", id)
	return nil
}

// requireSafeHeader asserts a header value is printable ASCII.
func requireSafeHeader(t *testing.T, v string) {
	t.Helper()
	for i := 0; i < len(v); i++ {
		require.True(t, v[i] >= 0x20 && v[i] < 0x7f, "byte %#x at %d in %q", v[i], i, v)
	}
}

func TestGalleryMedia(t *testing.T) {
	for _, gb := range galleryBackends {
		t.Run(gb.name, func(t *testing.T) {
			t.Parallel()
			s := newTestServer(t, gb.backend, gb.o)
			a := s.register(uniqueEmail("media"))
			key := withKey(a.apiKey)
			colID := s.createCollection(key, "Shoot")
			content := []byte(strings.Repeat("0123456789", 10)) // 100 bytes
			size := len(content)
			rec := s.uploadPresigned(key, colID, "photo.jpg", "image/jpeg", content)
			file := s.listedFile(key, colID, rec["id"].(string))
			path := mediaPath(t, file)

			full := s.do("GET", path, nil)
			require.Equal(t, http.StatusOK, full.status, "body: %s", full.body)
			require.Equal(t, content, full.body)
			etag := full.header.Get("ETag")
			require.NotEmpty(t, etag)
			require.Equal(t, "nosniff", full.header.Get("X-Content-Type-Options"))
			require.Contains(t, full.header.Get("Cache-Control"), "private")
			require.Equal(t, "image/jpeg", full.header.Get("Content-Type"))
			require.Equal(t, "bytes", full.header.Get("Accept-Ranges"))

			t.Run("ranges", func(t *testing.T) {
				cases := []struct {
					rng        string
					start, end int // inclusive; -1: the whole file with 200
				}{
					{"bytes=10-19", 10, 19},
					{"bytes=-5", 95, 99},                    // suffix
					{"bytes=90-", 90, 99},                   // open-ended
					{"bytes=0-0", 0, 0},                     // one byte
					{"bytes=99-99", 99, 99},                 // the last byte
					{"bytes=95-500", 95, 99},                // end past the file: clamped
					{"bytes=-500", 0, 99},                   // suffix longer than the file
					{"bytes= 3-4", 3, 4},                    // whitespace tolerated
					{"bytes=0-1,5-6", -1, -1},               // multi-range: the whole file
					{"bytes=5-2", -1, -1},                   // invalid: ignored
					{"bytes=abc", -1, -1},                   // invalid: ignored
					{"bytes=a-b", -1, -1},                   // invalid: ignored
					{"items=0-5", -1, -1},                   // another unit: ignored
					{"bytes=--5", -1, -1},                   // invalid: ignored
					{"bytes=99999999999999999999-", -1, -1}, // overflow: ignored
				}
				for _, tc := range cases {
					r := s.do("GET", path, nil, withHeader("Range", tc.rng))
					if tc.start < 0 {
						require.Equal(t, http.StatusOK, r.status, "%s: %s", tc.rng, r.body)
						require.Equal(t, content, r.body, tc.rng)
						require.Empty(t, r.header.Get("Content-Range"), tc.rng)
						continue
					}
					require.Equal(t, http.StatusPartialContent, r.status, "%s: %s", tc.rng, r.body)
					require.Equal(t, content[tc.start:tc.end+1], r.body, tc.rng)
					require.Equal(t, fmt.Sprintf("bytes %d-%d/%d", tc.start, tc.end, size), r.header.Get("Content-Range"), tc.rng)
					require.Equal(t, fmt.Sprint(tc.end-tc.start+1), r.header.Get("Content-Length"), tc.rng)
					require.Equal(t, etag, r.header.Get("ETag"))
				}
				for _, rng := range []string{"bytes=100-", "bytes=100-200", "bytes=1000-", "bytes=-0"} {
					r := s.do("GET", path, nil, withHeader("Range", rng))
					r.requireError(t, http.StatusRequestedRangeNotSatisfiable, "range_not_satisfiable", "Range")
					require.Equal(t, fmt.Sprintf("bytes */%d", size), r.header.Get("Content-Range"), rng)
				}
			})

			t.Run("if_range", func(t *testing.T) {
				r := s.do("GET", path, nil, withHeader("Range", "bytes=0-4"), withHeader("If-Range", etag))
				require.Equal(t, http.StatusPartialContent, r.status)
				r = s.do("GET", path, nil, withHeader("Range", "bytes=0-4"), withHeader("If-Range", `"stale"`))
				require.Equal(t, http.StatusOK, r.status, "a changed file is sent whole")
				require.Equal(t, content, r.body)
			})

			t.Run("if_none_match", func(t *testing.T) {
				for _, inm := range []string{etag, "*", `"nope", ` + etag, `"a","b",` + etag, "W/" + etag, ` ` + etag + ` `} {
					r := s.do("GET", path, nil, withHeader("If-None-Match", inm))
					require.Equal(t, http.StatusNotModified, r.status, "If-None-Match: %s", inm)
					require.Empty(t, r.body)
					require.Equal(t, etag, r.header.Get("ETag"))
				}
				for _, inm := range []string{`"nope"`, `"a", "b"`, strings.Trim(etag, `"`)} {
					r := s.do("GET", path, nil, withHeader("If-None-Match", inm))
					require.Equal(t, http.StatusOK, r.status, "If-None-Match: %s", inm)
					require.Equal(t, content, r.body)
				}
			})

			t.Run("head", func(t *testing.T) {
				r := s.do("HEAD", path, nil)
				require.Equal(t, http.StatusOK, r.status)
				require.Empty(t, r.body)
				require.Equal(t, fmt.Sprint(size), r.header.Get("Content-Length"))
				require.Equal(t, "image/jpeg", r.header.Get("Content-Type"))
				require.Equal(t, etag, r.header.Get("ETag"))
				require.Equal(t, "bytes", r.header.Get("Accept-Ranges"))
				r = s.do("HEAD", path, nil, withHeader("Range", "bytes=-5"))
				require.Equal(t, http.StatusPartialContent, r.status)
				require.Equal(t, "5", r.header.Get("Content-Length"))
				require.Equal(t, fmt.Sprintf("bytes 95-99/%d", size), r.header.Get("Content-Range"))
				require.Equal(t, http.StatusNotModified, s.do("HEAD", path, nil, withHeader("If-None-Match", etag)).status)
			})

			t.Run("bad_tokens", func(t *testing.T) {
				s.do("GET", "/api/media", nil).requireError(t, http.StatusBadRequest, "invalid_request", "t")
				s.do("GET", "/api/media?t=", nil).requireError(t, http.StatusBadRequest, "invalid_request", "t")
				tok := file["mediaToken"].(string)
				s.do("GET", "/api/media?t="+url.QueryEscape(tok)+"&t="+url.QueryEscape(tok), nil).requireError(t, http.StatusBadRequest, "invalid_request", "t")
				s.do("GET", "/api/media?t=garbage", nil).requireError(t, http.StatusForbidden, "forbidden", "")
				s.do("GET", "/api/media?t="+url.QueryEscape(tok[:len(tok)-2]), nil).requireError(t, http.StatusForbidden, "forbidden", "")
				// The API key is no substitute for the token, and is not needed.
				s.do("GET", "/api/media", nil, key).requireError(t, http.StatusBadRequest, "invalid_request", "t")
			})

			t.Run("expired_token_is_403", func(t *testing.T) {
				s.clock.Advance(gallery.DefaultMediaTTL + time.Second)
				s.do("GET", path, nil).requireError(t, http.StatusForbidden, "forbidden", "")
				require.Equal(t, http.StatusForbidden, s.do("HEAD", path, nil).status)
				// A fresh listing gives a working link again.
				fresh := s.listedFile(key, colID, rec["id"].(string))
				r := s.do("GET", mediaPath(t, fresh), nil)
				require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
				require.Equal(t, content, r.body)
			})
		})
	}
}

func TestGalleryFileNames(t *testing.T) {
	for _, gb := range galleryBackends {
		t.Run(gb.name, func(t *testing.T) {
			t.Parallel()
			s := newTestServer(t, gb.backend, gb.o)
			a := s.register(uniqueEmail("names"))
			key := withKey(a.apiKey)
			colID := s.createCollection(key, "Shoot")

			check := func(t *testing.T, rec map[string]any, want string) {
				t.Helper()
				require.Equal(t, want, rec["fileName"])
				sk := rec["storageKey"].(string)
				require.True(t, strings.HasSuffix(sk, "/"+want), "storage key %q ends with the sanitized name", sk)
				require.NotContains(t, sk, "..")
				require.NotContains(t, sk, `\`)
				f := s.listedFile(key, colID, rec["id"].(string))
				r := s.do("GET", mediaPath(t, f), nil)
				require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
				cd := r.header.Get("Content-Disposition")
				requireSafeHeader(t, cd)
				disp, params, err := mime.ParseMediaType(cd)
				require.NoError(t, err, "Content-Disposition %q parses", cd)
				require.Contains(t, []string{"inline", "attachment"}, disp, "inline for passive types only")
				require.Equal(t, want, params["filename"], "filename* carries the exact UTF-8 name: %q", cd)
				require.Empty(t, r.header.Get("X-Injected"))
			}

			t.Run("proxy_uploads", func(t *testing.T) {
				for _, tc := range []struct{ in, want string }{
					{"../../etc/passwd", "passwd"},
					{`C:\Users\me\photo "1".jpg`, "photo _1_.jpg"},
					{"Фото 東京 ✓.jpg", "Фото 東京 ✓.jpg"},
					{"semi;colon,comma.jpg", "semi;colon,comma.jpg"},
					{"100% <b>bold</b>.png", "b_.png"}, // the part's name is cut at its last slash
					{"invoice\u202egpj.exe", "invoicegpj.exe"},
				} {
					r := s.proxyUpload(key, colID, tc.in, []byte("bytes of "+tc.want))
					require.Equal(t, http.StatusCreated, r.status, "%q: %s", tc.in, r.body)
					check(t, r.json(t), tc.want)
				}
			})

			t.Run("presigned_uploads", func(t *testing.T) {
				for _, tc := range []struct{ in, want string }{
					{"../IMG 0001.jpg", "IMG 0001.jpg"},
					{"evil\r\nX-Injected: yes.jpg", "evilX-Injected_ yes.jpg"},
					{`a/b\c"d'e.jpg`, "c_d_e.jpg"},
					{"日本語の写真.jpg", "日本語の写真.jpg"},
					{strings.Repeat("é", 200) + ".jpg", strings.Repeat("é", 125) + ".jpg"}, // cut, the extension kept
					// The longest name of characters JSON escapes still gets a
					// media link short enough to use.
					{strings.Repeat("&", 300), strings.Repeat("&", 255)},
				} {
					content := []byte("bytes of " + tc.in)
					pre := s.presign(key, colID, tc.in, "image/jpeg", len(content))
					require.Equal(t, http.StatusOK, s.putPresigned(pre["uploadUrl"].(string), pre["headers"].(map[string]any), content))
					r := s.do("POST", "/api/upload/complete", completeBody(colID, tc.in, "image/jpeg", len(content), pre), key)
					require.Equal(t, http.StatusCreated, r.status, "%q: %s", tc.in, r.body)
					check(t, r.json(t), tc.want)
				}
			})
		})
	}
}

func TestLocalBlobUploadRoute(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, "sqlite", options{})
	a := s.register(uniqueEmail("localput"))
	key := withKey(a.apiKey)
	colID := s.createCollection(key, "Shoot")
	content := bytes.Repeat([]byte("L"), 2048)
	n := len(content)

	put := func(path, contentType string, body []byte, opts ...reqOpt) reply {
		req := httptest.NewRequest("PUT", path, bytes.NewReader(body))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		return s.sendRaw(req, opts...)
	}
	pre := s.presign(key, colID, "local.jpg", "image/jpeg", n)
	u, err := url.Parse(pre["uploadUrl"].(string))
	require.NoError(t, err)
	require.Equal(t, "/api/blob/upload", u.Path)
	require.Equal(t, map[string]any{"Content-Type": "image/jpeg"}, pre["headers"])
	path := u.RequestURI()
	tok := u.Query().Get("t")
	complete := completeBody(colID, "local.jpg", "image/jpeg", n, pre)

	refused := func(t *testing.T, r reply, status int) {
		t.Helper()
		require.Equal(t, status, r.status, "body: %s", r.body)
		require.Equal(t, "close", r.header.Get("Connection"), "a refused PUT closes the connection")
	}
	t.Run("wrong_content_type_is_403", func(t *testing.T) {
		refused(t, put(path, "text/html", content), http.StatusForbidden)
		refused(t, put(path, "", content), http.StatusForbidden)
		refused(t, put(path, "image/jpeg; charset=binary", content), http.StatusForbidden)
	})
	t.Run("wrong_length_is_refused", func(t *testing.T) {
		refused(t, put(path, "image/jpeg", content[:n-1]), http.StatusForbidden)
		refused(t, put(path, "image/jpeg", append(bytes.Clone(content), 'x')), http.StatusForbidden)
		r := s.chunked("PUT", path, "image/jpeg", content)
		r.requireError(t, http.StatusBadRequest, "invalid_request", "")
		require.Equal(t, "close", r.header.Get("Connection"))
	})
	t.Run("forged_or_missing_token_is_403", func(t *testing.T) {
		payload, sig, ok := strings.Cut(tok, ".")
		require.True(t, ok)
		flip := func(v string) string {
			b := []byte(v)
			if b[0] == 'A' {
				b[0] = 'B'
			} else {
				b[0] = 'A'
			}
			return string(b)
		}
		for _, bad := range []string{
			"",
			"garbage",
			payload + ".",
			payload + "." + flip(sig),
			flip(payload) + "." + sig,
		} {
			refused(t, put("/api/blob/upload?t="+url.QueryEscape(bad), "image/jpeg", content), http.StatusForbidden)
		}
		refused(t, put("/api/blob/upload", "image/jpeg", content), http.StatusForbidden)
		refused(t, put(path+"&t="+url.QueryEscape(tok), "image/jpeg", content), http.StatusBadRequest)
	})
	t.Run("nothing_was_stored", func(t *testing.T) {
		s.do("POST", "/api/upload/complete", complete, key).
			requireError(t, http.StatusConflict, "upload_incomplete_or_mismatch", "object_not_visible_yet_retry_complete")
	})
	t.Run("needs_no_key_or_session_and_ignores_cross_site_headers", func(t *testing.T) {
		r := put(path, "image/jpeg", content, withHeader("Origin", "https://evil.example"), withHeader("Sec-Fetch-Site", "cross-site"))
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		require.NotEmpty(t, r.header.Get("ETag"))
		rec := s.do("POST", "/api/upload/complete", complete, key)
		require.Equal(t, http.StatusCreated, rec.status, "body: %s", rec.body)
	})
	t.Run("expired_token_is_403", func(t *testing.T) {
		late := s.presign(key, colID, "late.jpg", "image/jpeg", n)
		lu, err := url.Parse(late["uploadUrl"].(string))
		require.NoError(t, err)
		s.clock.Advance(uploads.DefaultPresignTTL + time.Second)
		refused(t, put(lu.RequestURI(), "image/jpeg", content), http.StatusForbidden)
	})
}
