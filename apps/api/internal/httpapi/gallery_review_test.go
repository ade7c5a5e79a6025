package httpapi

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// uploadAs presigns, PUTs and completes a file of contentType.
func (s *testServer) uploadAs(key reqOpt, colID, name, contentType string, content []byte) map[string]any {
	s.t.Helper()
	pre := s.do("POST", "/api/upload/presign", map[string]any{"collectionId": colID, "fileName": name, "contentType": contentType, "sizeBytes": len(content)}, key)
	require.Equal(s.t, http.StatusOK, pre.status, "body: %s", pre.body)
	pm := pre.json(s.t)
	require.Equal(s.t, http.StatusOK, s.putPresigned(pm["uploadUrl"].(string), pm["headers"].(map[string]any), content))
	done := s.do("POST", "/api/upload/complete", map[string]any{"collectionId": colID, "storageKey": pm["storageKey"], "fileName": name, "contentType": contentType, "sizeBytes": len(content)}, key)
	require.Equal(s.t, http.StatusCreated, done.status, "body: %s", done.body)
	return done.json(s.t)
}

// TestMediaNeverRunsInOurOrigin: uploaded HTML or SVG is served as an
// attachment under a sandboxing CSP; passive images stay inline.
func TestMediaNeverRunsInOurOrigin(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, "sqlite", options{})
	a := s.register(uniqueEmail("xss"))
	key := withKey(a.apiKey)
	col := s.do("POST", "/api/collections", map[string]any{"name": "X"}, key).json(t)["id"].(string)
	for _, tc := range []struct{ name, ct, disp string }{
		{"evil.html", "text/html", "attachment"},
		{"evil.svg", "image/svg+xml", "attachment"},
		{"photo.jpg", "image/jpeg", "inline"},
	} {
		rec := s.uploadAs(key, col, tc.name, tc.ct, []byte("<script>fetch('/api/keys/rotate',{method:'POST'})</script>"))
		r := s.do("GET", mediaPath(t, s.listedFile(key, col, rec["id"].(string))), nil)
		require.Equal(t, http.StatusOK, r.status)
		disp, _, err := mime.ParseMediaType(r.header.Get("Content-Disposition"))
		require.NoError(t, err)
		require.Equal(t, tc.disp, disp, tc.name)
		require.Contains(t, r.header.Get("Content-Security-Policy"), "sandbox", tc.name)
		require.Equal(t, "nosniff", r.header.Get("X-Content-Type-Options"))
	}
}

// TestIDsWithControlBytesAreNotFound: a NUL in an id or cursor never
// reaches the store (where it was a 500).
func TestIDsWithControlBytesAreNotFound(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			s := newTestServer(t, backend, options{})
			a := s.register(uniqueEmail("nul"))
			key := withKey(a.apiKey)
			s.do("GET", "/api/collections?cursor=%00", nil, key).requireError(t, http.StatusBadRequest, "invalid_request", "cursor")
			s.do("GET", "/api/collections/a%00b/files", nil, key).requireError(t, http.StatusNotFound, "not_found", "")
			s.do("POST", "/api/collections", map[string]any{"name": "N", "categoryId": "cat\u0000"}, key).requireError(t, http.StatusBadRequest, "invalid_request", "categoryId")
			s.do("POST", "/api/upload/presign", map[string]any{"collectionId": "col\u0000", "fileName": "a.jpg", "contentType": "image/jpeg", "sizeBytes": 3}, key).requireError(t, http.StatusNotFound, "not_found", "")
			s.do("POST", "/api/upload/complete", map[string]any{"collectionId": "c", "storageKey": "clientGallery/x\u0000/y", "fileName": "a.jpg", "contentType": "image/jpeg", "sizeBytes": 3}, key).requireError(t, http.StatusForbidden, "forbidden", "")
			app := s.createApp("drive", callback)
			s.do("POST", "/api/integrations/connect/verify", map[string]any{"profile_id": "p\u0000", "client_id": app.clientID, "client_secret": app.secret}).requireError(t, http.StatusNotFound, "not_found", "")
			s.do("GET", "/api/developer/apps/a%00", nil, withSession(app.owner.session)).requireError(t, http.StatusNotFound, "not_found", "")
		})
	}
}

// TestSlowDownloadOutlivesTheWriteTimeout: a media download that keeps
// moving may take longer than the server's WriteTimeout.
func TestSlowDownloadOutlivesTheWriteTimeout(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, "sqlite", options{})
	a := s.register(uniqueEmail("slowdl"))
	key := withKey(a.apiKey)
	col := s.do("POST", "/api/collections", map[string]any{"name": "D"}, key).json(t)["id"].(string)
	content := bytes.Repeat([]byte("0123456789abcdef"), 512<<10) // 8 MiB: more than the sockets buffer
	rec := s.uploadAs(key, col, "big.jpg", "image/jpeg", content)
	path := mediaPath(t, s.listedFile(key, col, rec["id"].(string)))
	s.app.Server().WriteTimeout = 300 * time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = s.app.Listener(ln) }()
	t.Cleanup(func() { _ = s.app.Shutdown() })

	conn, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.(*net.TCPConn).SetReadBuffer(64<<10))
	_, err = fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path)
	require.NoError(t, err)
	res, err := http.ReadResponse(bufio.NewReaderSize(conn, 64<<10), nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode)
	got := 0
	buf := make([]byte, 256<<10)
	start := time.Now()
	for {
		n, err := res.Body.Read(buf)
		got += n
		if err == io.EOF {
			break
		}
		require.NoError(t, err, "after %d bytes in %s", got, time.Since(start))
		time.Sleep(25 * time.Millisecond) // about 10 MiB/s at best: well over a second in all
	}
	require.Equal(t, len(content), got)
	require.Greater(t, time.Since(start), 300*time.Millisecond, "the download outlived the write timeout")
}

// TestProxyUploadsInFlightAreBounded: an account cannot hold more than its
// share of upload slots (each may pin the object store's part buffers).
func TestProxyUploadsInFlightAreBounded(t *testing.T) {
	t.Parallel()
	u := newUploadSlots(3, 2)
	r1, err := u.acquire("a")
	require.NoError(t, err)
	_, err = u.acquire("a")
	require.NoError(t, err)
	_, err = u.acquire("a")
	require.Error(t, err, "third upload of one account")
	_, err = u.acquire("b")
	require.NoError(t, err)
	_, err = u.acquire("c")
	require.Error(t, err, "the server's bound")
	r1()
	_, err = u.acquire("c")
	require.NoError(t, err, "a released slot is free again")
}

// TestLocalPresignedPutWorksFromOtherOrigins: a browser on another origin
// can PUT to the embedded default's presigned URL, as to S3 with CORS.
func TestLocalPresignedPutWorksFromOtherOrigins(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, "sqlite", options{})
	pre := s.do("OPTIONS", "/api/blob/upload?t=x", nil,
		withHeader("Origin", "https://app.partner.example"),
		withHeader("Access-Control-Request-Method", "PUT"),
		withHeader("Access-Control-Request-Headers", "content-type"))
	require.Equal(t, http.StatusNoContent, pre.status)
	require.Equal(t, "*", pre.header.Get("Access-Control-Allow-Origin"))
	require.Contains(t, pre.header.Get("Access-Control-Allow-Methods"), "PUT")
	require.Contains(t, strings.ToLower(pre.header.Get("Access-Control-Allow-Headers")), "content-type")

	a := s.register(uniqueEmail("cors"))
	key := withKey(a.apiKey)
	col := s.do("POST", "/api/collections", map[string]any{"name": "C"}, key).json(t)["id"].(string)
	p := s.do("POST", "/api/upload/presign", map[string]any{"collectionId": col, "fileName": "a.jpg", "contentType": "image/jpeg", "sizeBytes": 3}, key).json(t)
	u, err := url.Parse(p["uploadUrl"].(string))
	require.NoError(t, err)
	put := s.rawDo("PUT", u.RequestURI(), "image/jpeg", []byte("abc"),
		withHeader("Origin", "https://app.partner.example"), withHeader("Sec-Fetch-Site", "cross-site"))
	require.Equal(t, http.StatusOK, put.status, "body: %s", put.body)
	require.Equal(t, "*", put.header.Get("Access-Control-Allow-Origin"))
}
