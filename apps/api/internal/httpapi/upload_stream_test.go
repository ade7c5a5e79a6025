package httpapi

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// serve starts the app on a real loopback listener and returns its address.
func (s *testServer) serve(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = s.app.Listener(LingeringListener(ln)) }()
	t.Cleanup(func() { _ = s.app.Shutdown() })
	return ln.Addr().String()
}

// patternReader yields n deterministic bytes without holding them.
type patternReader struct{ off, n int64 }

func (p *patternReader) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	if rest := p.n - p.off; int64(len(b)) > rest {
		b = b[:rest]
	}
	for i := range b {
		o := p.off + int64(i)
		b[i] = byte(o*31 + o>>12)
	}
	p.off += int64(len(b))
	return len(b), nil
}

// heapPeak runs fn while sampling the heap in use, and returns how far
// its peak rose above the level before fn.
func heapPeak(fn func()) uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	peak.Store(base)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var ms runtime.MemStats
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	fn()
	close(stop)
	<-done
	return peak.Load() - base
}

// streamingUpload is a POST /api/upload of a size-byte file streamed from
// a patternReader, with an exact Content-Length; sum is the file's SHA-256
// once the request has been sent.
func streamingUpload(t *testing.T, addr, apiKey, colID string, size int64) (*http.Request, func() []byte) {
	t.Helper()
	var head bytes.Buffer
	mw := multipart.NewWriter(&head)
	require.NoError(t, mw.WriteField("collectionId", colID))
	_, err := mw.CreateFormFile("file", "big.bin")
	require.NoError(t, err)
	tail := "\r\n--" + mw.Boundary() + "--\r\n"
	h := sha256.New()
	file := io.TeeReader(&patternReader{n: size}, h)
	body := io.MultiReader(bytes.NewReader(head.Bytes()), file, strings.NewReader(tail))
	req, err := http.NewRequest("POST", "http://"+addr+"/api/upload", body)
	require.NoError(t, err)
	req.ContentLength = int64(head.Len()) + size + int64(len(tail))
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("x-api-key", apiKey)
	return req, func() []byte { return h.Sum(nil) }
}

// TestProxyUploadStreams: a 64 MiB upload through the API goes to object
// storage without the server holding it: the process's heap stays flat,
// and nothing is spooled to a temporary file. Not parallel: it measures
// the heap and sets TMPDIR.
func TestProxyUploadStreams(t *testing.T) {
	const size = 64 << 20
	s := newTestServer(t, "sqlite", options{}) // localblob: files under the data dir
	a := s.register(uniqueEmail("stream"))
	key := withKey(a.apiKey)
	colID := s.createCollection(key, "Big")
	spool := t.TempDir()
	t.Setenv("TMPDIR", spool)
	addr := s.serve(t)
	client := &http.Client{Timeout: 2 * time.Minute}

	var res *http.Response
	var raw []byte
	req, sum := streamingUpload(t, addr, a.apiKey, colID, size)
	growth := heapPeak(func() {
		var err error
		res, err = client.Do(req)
		require.NoError(t, err)
		raw, err = io.ReadAll(res.Body)
		require.NoError(t, err)
		res.Body.Close()
	})
	require.Equal(t, http.StatusCreated, res.StatusCode, "%s", raw)
	require.Contains(t, string(raw), fmt.Sprintf(`"sizeBytes":%d`, size))
	t.Logf("heap growth during a %d MiB upload: %.1f MiB", size>>20, float64(growth)/(1<<20))
	require.Less(t, growth, uint64(32<<20), "the upload must stream, not be held in memory")
	require.EqualValues(t, size, s.usedBytes(key))

	entries, err := os.ReadDir(spool)
	require.NoError(t, err)
	require.Empty(t, entries, "nothing spooled to a temporary file")

	// The stored bytes are the sent bytes; the download streams too.
	rec := reply{body: raw}.json(t)
	f := s.listedFile(key, colID, rec["id"].(string))
	u, err := url.Parse(f["url"].(string))
	require.NoError(t, err)
	got := sha256.New()
	growth = heapPeak(func() {
		res, err := client.Get("http://" + addr + u.RequestURI())
		require.NoError(t, err)
		defer res.Body.Close()
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.EqualValues(t, size, res.ContentLength)
		n, err := io.Copy(got, res.Body)
		require.NoError(t, err)
		require.EqualValues(t, size, n)
	})
	t.Logf("heap growth during the download: %.1f MiB", float64(growth)/(1<<20))
	require.Less(t, growth, uint64(32<<20), "the download must stream")
	require.Equal(t, sum(), got.Sum(nil))
}

// rawConn is one client connection spoken to byte by byte, to see what
// the server makes of what is left on it.
type rawConn struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return &rawConn{t: t, c: c, br: bufio.NewReader(c)}
}

func (r *rawConn) write(b []byte) {
	r.t.Helper()
	_, err := r.c.Write(b)
	require.NoError(r.t, err)
}

// next reads one response; res.Close reports Connection: close.
func (r *rawConn) next() (*http.Response, []byte, error) {
	_ = r.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	res, err := http.ReadResponse(r.br, nil)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return res, body, err
}

// requireOnlyHealthz sends GET /healthz and asserts that its 200 is the
// next response on the connection and the last: nothing left of an
// earlier body was taken for a request.
func (r *rawConn) requireOnlyHealthz() {
	r.t.Helper()
	r.write([]byte("GET /healthz HTTP/1.1\r\nHost: gellhub.test\r\n\r\n"))
	res, body, err := r.next()
	require.NoError(r.t, err)
	require.Equal(r.t, http.StatusOK, res.StatusCode, "the next response answers the next request: %s", body)
	require.Contains(r.t, string(body), `"ok"`)
	_ = r.c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	extra, err := r.br.Peek(1)
	require.Error(r.t, err, "no further response: %q", extra)
}

// requireClosed asserts the server closed the connection: a request sent
// now gets no response.
func (r *rawConn) requireClosed() {
	r.t.Helper()
	_, _ = r.c.Write([]byte("GET /healthz HTTP/1.1\r\nHost: gellhub.test\r\n\r\n"))
	res, body, err := r.next()
	if err == nil {
		r.t.Fatalf("the connection stayed open: got %d %s", res.StatusCode, body)
	}
}

// smuggling is a request whose body hides another request right after the
// 8 KiB fasthttp reads before the handler runs.
func smuggling(method, path string, pad int, headers ...string) []byte {
	inner := "GET /api/smuggled HTTP/1.1\r\nHost: gellhub.test\r\n\r\n"
	body := strings.Repeat("x", 8<<10) + inner + strings.Repeat(" ", pad)
	return []byte(method + " " + path + " HTTP/1.1\r\nHost: gellhub.test\r\nContent-Type: application/json\r\n" +
		strings.Join(headers, "") + fmt.Sprintf("Content-Length: %d\r\n\r\n", len(body)) + body)
}

func TestKeepAliveAfterUnreadBodies(t *testing.T) {
	t.Parallel()
	adminEmail := uniqueEmail("staff")
	s := newTestServer(t, "memory", options{admins: []string{adminEmail}})
	admin := s.register(adminEmail)
	a := s.register(uniqueEmail("keepalive"))
	colID := s.createCollection(withKey(a.apiKey), "Shoot")
	addr := s.serve(t)

	t.Run("json_route_over_the_limit_is_413_and_closes", func(t *testing.T) {
		for _, path := range []string{"/api/categories", "/api/register"} {
			c := dialRaw(t, addr)
			const size = 10 << 20
			head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: gellhub.test\r\nContent-Type: application/json\r\nx-api-key: %s\r\nContent-Length: %d\r\n\r\n", path, a.apiKey, size)
			c.write([]byte(head))
			var wg sync.WaitGroup
			wg.Go(func() { // the body keeps coming while the server answers
				chunk := []byte(`{"name":"` + strings.Repeat("n", 64<<10))
				for sent := 0; sent < size; sent += len(chunk) {
					if _, err := c.c.Write(chunk[:min(len(chunk), size-sent)]); err != nil {
						return
					}
				}
			})
			res, body, err := c.next()
			require.NoError(t, err)
			reply{status: res.StatusCode, header: res.Header, body: body}.requireError(t, http.StatusRequestEntityTooLarge, "payload_too_large", "")
			require.True(t, res.Close, "%s: Connection: close", path)
			c.requireClosed()
			wg.Wait()
		}
		require.Empty(t, s.do("GET", "/api/categories", nil, withKey(a.apiKey)).list(t), "nothing was created")
	})

	t.Run("an_upload_refused_early_answers_4xx_and_closes", func(t *testing.T) {
		c := dialRaw(t, addr)
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		require.NoError(t, mw.WriteField("collectionId", "col_nope"))
		fw, err := mw.CreateFormFile("file", "a.bin")
		require.NoError(t, err)
		_, _ = fw.Write(bytes.Repeat([]byte("GET /api/smuggled HTTP/1.1\r\nHost: x\r\n\r\n"), 50_000)) // ~2 MiB of requests
		require.NoError(t, mw.Close())
		head := fmt.Sprintf("POST /api/upload HTTP/1.1\r\nHost: gellhub.test\r\nContent-Type: %s\r\nx-api-key: %s\r\nContent-Length: %d\r\n\r\n",
			mw.FormDataContentType(), a.apiKey, buf.Len())
		var wg sync.WaitGroup
		c.write([]byte(head))
		wg.Go(func() { _, _ = c.c.Write(buf.Bytes()) })
		res, body, err := c.next()
		require.NoError(t, err)
		reply{status: res.StatusCode, header: res.Header, body: body}.requireError(t, http.StatusNotFound, "not_found", "")
		require.True(t, res.Close, "Connection: close")
		c.requireClosed()
		wg.Wait()

		// A client still sending gets the answer, not a reset: the server
		// closes gracefully (LingeringListener). Without it about a third of
		// these failed with "connection reset by peer".
		for i := range 10 {
			req, _ := streamingUpload(t, addr, a.apiKey, "col_nope", int64(1+i%3*4)<<20)
			res, err := http.DefaultClient.Do(req)
			require.NoError(t, err, "attempt %d", i)
			raw, _ := io.ReadAll(res.Body)
			res.Body.Close()
			require.Equal(t, http.StatusNotFound, res.StatusCode, "%s", raw)
			require.True(t, res.Close)
		}
	})

	t.Run("an_upload_over_the_quota_gets_its_413", func(t *testing.T) {
		tiny := s.registerOnTinyPlan(admin.session, 1<<20)
		col := s.createCollection(withKey(tiny.apiKey), "Tiny")
		for i := range 10 {
			req, _ := streamingUpload(t, addr, tiny.apiKey, col, 8<<20)
			res, err := http.DefaultClient.Do(req)
			require.NoError(t, err, "attempt %d", i)
			raw, _ := io.ReadAll(res.Body)
			res.Body.Close()
			reply{status: res.StatusCode, header: res.Header, body: raw}.requireError(t, http.StatusRequestEntityTooLarge, "quota_exceeded", "")
		}
		require.Zero(t, s.usedBytes(withKey(tiny.apiKey)))
	})

	t.Run("an_early_401_never_parses_the_rest_of_the_body", func(t *testing.T) {
		// Small enough to drain: the connection stays usable.
		c := dialRaw(t, addr)
		c.write(smuggling("POST", "/api/collections", 1000))
		res, body, err := c.next()
		require.NoError(t, err)
		require.Equal(t, http.StatusUnauthorized, res.StatusCode, "%s", body)
		require.False(t, res.Close, "a small unread body is drained")
		c.requireOnlyHealthz()

		// Too large to drain: closed.
		c = dialRaw(t, addr)
		c.write(smuggling("POST", "/api/collections", 1<<20))
		res, body, err = c.next()
		require.NoError(t, err)
		require.Equal(t, http.StatusUnauthorized, res.StatusCode, "%s", body)
		require.True(t, res.Close)
		c.requireClosed()
	})

	t.Run("routes_that_ignore_bodies_never_parse_them", func(t *testing.T) {
		for _, rq := range [][]byte{
			smuggling("GET", "/healthz", 0),
			smuggling("GET", "/api/nope", 0),
			smuggling("DELETE", "/api/admin/plans/plan_x", 0, "x-api-key: "+a.apiKey+"\r\n"),
			smuggling("POST", "/api/admin/plans", 0, "x-api-key: "+a.apiKey+"\r\n"),
			smuggling("POST", "/api/categories", 0, "x-api-key: "+a.driveKey+"\r\n"),
			smuggling("POST", "/api/upload", 0, "x-api-key: "+a.driveKey+"\r\n"),
		} {
			c := dialRaw(t, addr)
			c.write(rq)
			res, body, err := c.next()
			require.NoError(t, err, "%.40s", rq)
			require.NotContains(t, string(body), "smuggled")
			if res.Close {
				c.requireClosed()
				continue
			}
			c.requireOnlyHealthz()
		}
	})

	t.Run("chunked_bodies_close_unless_read", func(t *testing.T) {
		c := dialRaw(t, addr)
		inner := "GET /api/smuggled HTTP/1.1\r\nHost: gellhub.test\r\n\r\n"
		c.write([]byte("POST /api/collections HTTP/1.1\r\nHost: gellhub.test\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
			fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(inner), inner)))
		res, body, err := c.next()
		require.NoError(t, err)
		require.Equal(t, http.StatusUnauthorized, res.StatusCode, "%s", body)
		require.True(t, res.Close)
		c.requireClosed()
	})

	t.Run("a_successful_upload_keeps_the_connection", func(t *testing.T) {
		// An epilogue after the closing boundary is left by the multipart
		// reader: drained, it is not taken for a request.
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		require.NoError(t, mw.WriteField("collectionId", colID))
		fw, err := mw.CreateFormFile("file", "ok.bin")
		require.NoError(t, err)
		_, _ = fw.Write(bytes.Repeat([]byte("f"), 100<<10))
		require.NoError(t, mw.Close())
		buf.WriteString(strings.Repeat("\r\n", 8<<10) + "GET /api/smuggled HTTP/1.1\r\nHost: x\r\n\r\n")
		c := dialRaw(t, addr)
		c.write([]byte(fmt.Sprintf("POST /api/upload HTTP/1.1\r\nHost: gellhub.test\r\nContent-Type: %s\r\nx-api-key: %s\r\nContent-Length: %d\r\n\r\n",
			mw.FormDataContentType(), a.apiKey, buf.Len())))
		c.write(buf.Bytes())
		res, body, err := c.next()
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, res.StatusCode, "%s", body)
		require.False(t, res.Close)
		c.requireOnlyHealthz()
	})
}
