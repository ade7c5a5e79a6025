package httpapi

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// galleryBackends run the gallery on each object storage: memory,
// localblob (the embedded default, PUT through the API) and S3 (versitygw).
var galleryBackends = []struct {
	name, backend string
	o             options
}{
	{"memory", "memory", options{}},
	{"sqlite+localblob", "sqlite", options{}},
	{"postgres+redis+s3", "postgres+redis", options{s3: true}},
}

// putPresigned sends the presigned PUT where the backend expects it.
func (s *testServer) putPresigned(uploadURL string, headers map[string]any, body []byte) int {
	s.t.Helper()
	ct, _ := headers["Content-Type"].(string)
	if s.memBlobs != nil {
		if err := s.memBlobs.Upload(uploadURL, ct, body); err != nil {
			return http.StatusForbidden
		}
		return http.StatusOK
	}
	u, err := url.Parse(uploadURL)
	require.NoError(s.t, err)
	if strings.HasPrefix(u.Path, "/api/blob/upload") { // localblob: served by this app
		req := httptest.NewRequest("PUT", u.RequestURI(), bytes.NewReader(body))
		req.Header.Set("Content-Type", ct)
		res, err := s.app.Test(req, -1)
		require.NoError(s.t, err)
		res.Body.Close()
		return res.StatusCode
	}
	req, err := http.NewRequest("PUT", uploadURL, bytes.NewReader(body))
	require.NoError(s.t, err)
	req.Header.Set("Content-Type", ct)
	res, err := http.DefaultClient.Do(req)
	require.NoError(s.t, err)
	res.Body.Close()
	return res.StatusCode
}

// multipartUpload builds a POST /api/upload body.
func multipartUpload(t testing.TB, fields map[string]string, fileName string, content []byte) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		require.NoError(t, w.WriteField(k, v))
	}
	fw, err := w.CreateFormFile("file", fileName)
	require.NoError(t, err)
	_, err = fw.Write(content)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return w.FormDataContentType(), buf.Bytes()
}

func (s *testServer) rawDo(method, path, contentType string, body []byte, opts ...reqOpt) reply {
	s.t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	for _, o := range opts {
		o(req)
	}
	res, err := s.app.Test(req, -1)
	require.NoError(s.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(s.t, err)
	return reply{status: res.StatusCode, header: res.Header, body: raw}
}

func TestGalleryUploadJourney(t *testing.T) {
	for _, gb := range galleryBackends {
		t.Run(gb.name, func(t *testing.T) {
			t.Parallel()
			s := newTestServer(t, gb.backend, gb.o)
			a := s.register(uniqueEmail("photog"))
			key := withKey(a.apiKey)

			cat := s.do("POST", "/api/categories", map[string]any{"name": "Weddings"}, key)
			require.Equal(t, http.StatusCreated, cat.status, "body: %s", cat.body)
			col := s.do("POST", "/api/collections", map[string]any{"name": "Wedding 2024", "clientName": "John Doe", "date": "2024-06-15", "categoryId": cat.json(t)["id"]}, key)
			require.Equal(t, http.StatusCreated, col.status, "body: %s", col.body)
			colID := col.json(t)["id"].(string)

			// Presigned: presign, PUT, complete (twice: same record).
			content := bytes.Repeat([]byte("0123456789"), 1000)
			pre := s.do("POST", "/api/upload/presign", map[string]any{"collectionId": colID, "clientName": "John Doe", "fileName": "../IMG 0001.jpg", "contentType": "image/jpeg", "sizeBytes": len(content)}, key)
			require.Equal(t, http.StatusOK, pre.status, "body: %s", pre.body)
			pm := pre.json(t)
			storageKey := pm["storageKey"].(string)
			require.NotContains(t, storageKey, "..")
			require.Equal(t, http.StatusOK, s.putPresigned(pm["uploadUrl"].(string), pm["headers"].(map[string]any), content))
			complete := map[string]any{"collectionId": colID, "clientName": "John Doe", "storageKey": storageKey, "fileName": "IMG 0001.jpg", "contentType": "image/jpeg", "sizeBytes": len(content)}
			c1 := s.do("POST", "/api/upload/complete", complete, key)
			require.Equal(t, http.StatusCreated, c1.status, "body: %s", c1.body)
			c2 := s.do("POST", "/api/upload/complete", complete, key)
			require.Equal(t, c1.json(t)["id"], c2.json(t)["id"], "completing twice returns the same record")

			// Proxy: streamed through the API.
			ct, body := multipartUpload(t, map[string]string{"collectionId": colID, "clientName": "John Doe"}, "portrait.png", []byte("png-bytes"))
			up := s.rawDo("POST", "/api/upload", ct, body, key)
			require.Equal(t, http.StatusCreated, up.status, "body: %s", up.body)
			require.Equal(t, "portrait.png", up.json(t)["fileName"])

			st := s.do("GET", "/api/studio/storage", nil, key).json(t)
			require.EqualValues(t, len(content)+len("png-bytes"), st["usedBytes"], "bytes counted once")
			require.EqualValues(t, 5<<30, st["limitBytes"])

			files := s.do("GET", "/api/collections/"+colID+"/files", nil, key)
			require.Equal(t, http.StatusOK, files.status, "body: %s", files.body)
			list := files.list(t)
			require.Len(t, list, 2)
			var mediaURL string
			for _, f := range list {
				if f["fileName"] == "IMG 0001.jpg" {
					mediaURL = f["url"].(string)
				}
				require.NotEmpty(t, f["mediaToken"])
			}
			u, err := url.Parse(mediaURL)
			require.NoError(t, err)

			full := s.do("GET", u.RequestURI(), nil)
			require.Equal(t, http.StatusOK, full.status, "body: %s", full.body)
			require.Equal(t, content, full.body)
			require.Equal(t, "image/jpeg", full.header.Get("Content-Type"))
			require.Equal(t, "bytes", full.header.Get("Accept-Ranges"))
			require.Equal(t, fmt.Sprint(len(content)), full.header.Get("Content-Length"))
			require.Contains(t, full.header.Get("Content-Disposition"), `filename="IMG 0001.jpg"`)
			etag := full.header.Get("ETag")
			require.NotEmpty(t, etag)

			part := s.do("GET", u.RequestURI(), nil, withHeader("Range", "bytes=10-19"))
			require.Equal(t, http.StatusPartialContent, part.status)
			require.Equal(t, content[10:20], part.body)
			require.Equal(t, fmt.Sprintf("bytes 10-19/%d", len(content)), part.header.Get("Content-Range"))

			require.Equal(t, http.StatusNotModified, s.do("GET", u.RequestURI(), nil, withHeader("If-None-Match", etag)).status)
			s.do("GET", u.RequestURI(), nil, withHeader("Range", fmt.Sprintf("bytes=%d-", len(content)+5))).
				requireError(t, http.StatusRequestedRangeNotSatisfiable, "range_not_satisfiable", "Range")
			s.do("GET", "/api/media?t=forged."+strings.Repeat("A", 43), nil).requireError(t, http.StatusForbidden, "forbidden", "")

			// Another studio sees none of it.
			other := s.register(uniqueEmail("other"))
			s.do("GET", "/api/collections/"+colID+"/files", nil, withKey(other.apiKey)).requireError(t, http.StatusNotFound, "not_found", "")
			s.do("POST", "/api/upload/complete", complete, withKey(other.apiKey)).requireError(t, http.StatusForbidden, "forbidden", "")
			require.Empty(t, s.do("GET", "/api/collections", nil, withKey(other.apiKey)).list(t))
			// The drive key is another line's.
			s.do("GET", "/api/collections", nil, withKey(a.driveKey)).requireError(t, http.StatusForbidden, "forbidden", "")
		})
	}
}
