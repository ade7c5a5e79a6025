package httpapi

import (
	"bytes"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// slowReader yields n bytes in chunks, pausing before each.
type slowReader struct {
	left, chunk int
	pause       time.Duration
}

func (r *slowReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	time.Sleep(r.pause)
	n := min(len(p), r.chunk, r.left)
	for i := range p[:n] {
		p[i] = byte(i)
	}
	r.left -= n
	return n, nil
}

// TestSlowUploadOutlivesTheReadTimeout: the server's ReadTimeout bounds
// headers and JSON bodies, but a streaming upload that keeps making
// progress may take longer than it.
func TestSlowUploadOutlivesTheReadTimeout(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, "sqlite", options{})
	a := s.register(uniqueEmail("slow"))
	col := s.do("POST", "/api/collections", map[string]any{"name": "Slow"}, withKey(a.apiKey)).json(t)["id"].(string)
	s.app.Server().ReadTimeout = 300 * time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = s.app.Listener(ln) }()
	t.Cleanup(func() { _ = s.app.Shutdown() })

	var head bytes.Buffer
	mw := multipart.NewWriter(&head)
	require.NoError(t, mw.WriteField("collectionId", col))
	_, err = mw.CreateFormFile("file", "slow.bin")
	require.NoError(t, err)
	tail := "\r\n--" + mw.Boundary() + "--\r\n"
	const size = 8 * 16 << 10 // 8 chunks of 16 KiB, 150 ms apart: over a second in all
	body := io.MultiReader(bytes.NewReader(head.Bytes()), &slowReader{left: size, chunk: 16 << 10, pause: 150 * time.Millisecond}, strings.NewReader(tail))
	req, err := http.NewRequest("POST", "http://"+ln.Addr().String()+"/api/upload", body)
	require.NoError(t, err)
	req.ContentLength = int64(head.Len()) + size + int64(len(tail))
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("x-api-key", a.apiKey)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	require.Equal(t, http.StatusCreated, res.StatusCode, "%s", raw)
	require.Contains(t, string(raw), `"sizeBytes":131072`)
}
