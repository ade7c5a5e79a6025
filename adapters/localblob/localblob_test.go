package localblob_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gellhub/gellhub/adapters/localblob"
	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
	"github.com/gellhub/gellhub/testkit"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

func TestBlobStoreSuite(t *testing.T) {
	t.Parallel()
	testkit.RunBlobStoreSuite(t, func(t *testing.T) testkit.BlobUnderTest {
		clock := testkit.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
		s, _ := serve(t, t.TempDir(), clock)
		return testkit.BlobUnderTest{Store: s, Put: httpPut, Expire: clock.Advance}
	})
}

func TestAcceptUploadRefusesABodyOfAnotherLength(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, dir := open(t)
	if _, err := s.Put(ctx, "k/photo.jpg", strings.NewReader("previous"), "image/jpeg", 100); err != nil {
		t.Fatal(err)
	}
	token := presignToken(t, s, "k/photo.jpg", 10, "image/jpeg")
	for _, body := range []string{"short", "0123456789+more"} {
		_, err := s.AcceptUpload(ctx, token, 10, "image/jpeg", strings.NewReader(body))
		if e, ok := core.AsError(err); !ok || e.Kind != core.KindInvalid || e.Detail != "body" {
			t.Errorf("AcceptUpload of %d bytes with Content-Length 10: %v, want KindInvalid detail body", len(body), err)
		}
	}
	wantContent(t, s, "k/photo.jpg", "previous")
	wantNoTemps(t, dir)

	info, err := s.AcceptUpload(ctx, token, 10, "image/jpeg", strings.NewReader("0123456789"))
	if err != nil {
		t.Fatalf("AcceptUpload of the exact body: %v", err)
	}
	if info.Size != 10 || info.ContentType != "image/jpeg" {
		t.Errorf("AcceptUpload = %+v, want 10 bytes of image/jpeg", info)
	}
	wantContent(t, s, "k/photo.jpg", "0123456789")
}

func TestAcceptUploadRefusesForgedAndExpiredTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := testkit.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	s, err := localblob.New(t.TempDir(), "https://gellhub.example", secret, clock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	other, err := localblob.New(t.TempDir(), "https://gellhub.example", []byte(strings.Repeat("x", 32)), clock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = other.Close() })

	token := presignToken(t, s, "k/a.txt", 3, "text/plain")
	payload, sig, _ := strings.Cut(token, ".")
	otherPayload, _, _ := strings.Cut(presignToken(t, s, "k/b.txt", 3, "text/plain"), ".")
	forged := map[string]string{
		"empty":              "",
		"no_signature":       payload,
		"garbage":            "not-a-token",
		"other_secret":       presignToken(t, other, "k/a.txt", 3, "text/plain"),
		"swapped_claim":      otherPayload + "." + sig,
		"truncated_sig":      payload + "." + sig[:len(sig)-2],
		"flipped_sig":        payload + "." + flip(sig),
		"padded_sig":         payload + "." + sig + "=",
		"signature_of_empty": "." + sig,
	}
	for name, tok := range forged {
		_, err := s.AcceptUpload(ctx, tok, 3, "text/plain", strings.NewReader("abc"))
		if !core.IsKind(err, core.KindForbidden) {
			t.Errorf("%s: AcceptUpload: %v (kind %s), want KindForbidden", name, err, core.ErrorKind(err))
		}
	}
	for name, c := range map[string]struct {
		length int64
		ct     string
	}{
		"other_type":   {3, "text/html"},
		"other_length": {4, "text/plain"},
	} {
		_, err := s.AcceptUpload(ctx, token, c.length, c.ct, strings.NewReader("abc"))
		if !core.IsKind(err, core.KindForbidden) {
			t.Errorf("%s: AcceptUpload: %v (kind %s), want KindForbidden", name, err, core.ErrorKind(err))
		}
	}
	if _, err := s.AcceptUpload(ctx, token, -1, "text/plain", strings.NewReader("abc")); !core.IsKind(err, core.KindInvalid) {
		t.Errorf("AcceptUpload without Content-Length: %v, want KindInvalid", err)
	}

	clock.Advance(15*time.Minute + time.Millisecond)
	if _, err := s.AcceptUpload(ctx, token, 3, "text/plain", strings.NewReader("abc")); !core.IsKind(err, core.KindForbidden) {
		t.Errorf("AcceptUpload after expiry: %v (kind %s), want KindForbidden", err, core.ErrorKind(err))
	}
	if _, err := s.Head(ctx, "k/a.txt"); !core.IsKind(err, core.KindNotFound) {
		t.Errorf("Head after refused uploads: %v, want KindNotFound", err)
	}
}

func TestPresignedURLIsServedByTheAPI(t *testing.T) {
	t.Parallel()
	s, err := localblob.New(t.TempDir(), "https://gellhub.example/", secret, testkit.NewClock(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	p, err := s.PresignPut(context.Background(), "k/a b.txt", 3, "text/plain", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(p.URL)
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != "https" || u.Host != "gellhub.example" || u.Path != localblob.UploadPath || u.Query().Get("t") == "" {
		t.Errorf("presigned URL %s, want https://gellhub.example%s?t=…", p.URL, localblob.UploadPath)
	}
}

func TestKeysNeverLeaveTheDirectory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, dir := open(t)
	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(dir, "objects", "evil")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "evil/escaped.txt", strings.NewReader("x"), "text/plain", 10); err == nil {
		t.Errorf("Put through a symlink that leads outside succeeded")
	}
	if _, err := s.Head(ctx, "evil/escaped.txt"); err == nil {
		t.Errorf("Head through a symlink that leads outside succeeded")
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("files appeared outside the store: %v", entries)
	}
	for _, key := range []string{"../x", "a/../../x", "/etc/passwd", `..\x`} {
		if _, err := s.Put(ctx, key, strings.NewReader("x"), "text/plain", 10); !core.IsKind(err, core.KindInvalid) {
			t.Errorf("Put(%q): %v, want KindInvalid", key, err)
		}
	}
}

func TestFailedPutsLeaveNoTemporaryFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, dir := open(t)
	if _, err := s.Put(ctx, "k/big", strings.NewReader(strings.Repeat("x", 100)), "text/plain", 10); !core.IsKind(err, core.KindTooLarge) {
		t.Errorf("Put over the limit: %v, want KindTooLarge", err)
	}
	boom := errors.New("client went away")
	if _, err := s.Put(ctx, "k/broken", io.MultiReader(strings.NewReader("abc"), failing{boom}), "text/plain", 10); !errors.Is(err, boom) {
		t.Errorf("Put whose reader fails: %v, want its error", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Put(cctx, "k/canceled", strings.NewReader("abc"), "text/plain", 10); !errors.Is(err, context.Canceled) {
		t.Errorf("Put with a canceled context: %v, want context.Canceled", err)
	}
	wantNoTemps(t, dir)
	for _, key := range []string{"k/big", "k/broken", "k/canceled"} {
		if _, err := s.Head(ctx, key); !core.IsKind(err, core.KindNotFound) {
			t.Errorf("Head(%s) after a failed Put: %v, want KindNotFound", key, err)
		}
	}
}

func TestFilesAndSidecars(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, dir := open(t)
	info, err := s.Put(ctx, "a/b/c.txt", strings.NewReader("hello"), "text/plain", 10)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "objects", "a", "b", "c.txt"))
	if err != nil || string(data) != "hello" {
		t.Errorf("objects/a/b/c.txt = %q, %v; want the bytes as uploaded", data, err)
	}

	// A data file whose sidecar is gone (or torn from it by a crash) is
	// still served, with a generic type.
	if err := os.Remove(filepath.Join(dir, "meta", "a", "b", "c.txt")); err != nil {
		t.Fatal(err)
	}
	got, err := s.Head(ctx, "a/b/c.txt")
	if err != nil {
		t.Fatal(err)
	}
	if got.Size != 5 || got.ContentType != "application/octet-stream" || got.ETag == "" || got.ETag == info.ETag {
		t.Errorf("Head without a sidecar = %+v, want size 5, application/octet-stream and another ETag", got)
	}
	wantContent(t, s, "a/b/c.txt", "hello")

	// Delete removes the directories it leaves empty.
	if _, err := s.Put(ctx, "a/keep.txt", strings.NewReader("k"), "text/plain", 10); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "a/b/c.txt"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"objects/a/b", "meta/a/b"} {
		if _, err := os.Stat(filepath.Join(dir, p)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s after Delete: %v, want it removed", p, err)
		}
	}
	wantContent(t, s, "a/keep.txt", "k")
}

func TestObjectAndFolderOfTheSameNameConflict(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := open(t)
	if _, err := s.Put(ctx, "a/b", strings.NewReader("1"), "text/plain", 10); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"a", "a/b/c"} {
		if _, err := s.Put(ctx, key, strings.NewReader("2"), "text/plain", 10); !core.IsKind(err, core.KindConflict) {
			t.Errorf("Put(%q) beside a/b: %v (kind %s), want KindConflict", key, err, core.ErrorKind(err))
		}
	}
	if _, err := s.Head(ctx, "a"); !core.IsKind(err, core.KindNotFound) {
		t.Errorf("Head of a folder: %v, want KindNotFound", err)
	}
	if err := s.Delete(ctx, "a"); err != nil {
		t.Errorf("Delete of a folder: %v, want nil (no such object)", err)
	}
	wantContent(t, s, "a/b", "1")
}

func TestNewRemovesStaleTemporaryFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := localblob.New(dir, "http://127.0.0.1", secret, testkit.NewClock(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	stale, fresh := filepath.Join(dir, "tmp", "stale.part"), filepath.Join(dir, "tmp", "fresh.part")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	s, err = localblob.New(dir, "http://127.0.0.1", secret, testkit.NewClock(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a 2-hour-old temporary file survived New: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("a fresh temporary file (an upload in progress?) was removed: %v", err)
	}
}

// TestPutMemoryIsBounded streams 128 MiB through Put and checks that it
// allocated next to nothing (one copy buffer). It runs alone (not
// parallel), so that the process's allocations are Put's.
func TestPutMemoryIsBounded(t *testing.T) {
	s, _ := open(t)
	const size = 128 << 20
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	info, err := s.Put(context.Background(), "big/stream", zeros(size), "application/octet-stream", 1<<40)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if info.Size != size {
		t.Errorf("Put size %d, want %d", info.Size, size)
	}
	if allocated := after.TotalAlloc - before.TotalAlloc; allocated > 4<<20 {
		t.Errorf("Put of %d MiB allocated %d KiB, want under 4 MiB", size>>20, allocated>>10)
	}
}

func TestPing(t *testing.T) {
	t.Parallel()
	s, dir := open(t)
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "tmp")); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(context.Background()); !core.IsKind(err, core.KindUnavailable) {
		t.Errorf("Ping of a store that cannot write: %v, want KindUnavailable", err)
	}
}

func TestNewRefusesBadArguments(t *testing.T) {
	t.Parallel()
	clock := testkit.NewClock(time.Now())
	for name, c := range map[string]struct {
		dir, base string
		secret    []byte
		clock     ports.Clock
	}{
		"no_dir":       {"", "http://x", secret, clock},
		"relative_url": {t.TempDir(), "/api", secret, clock},
		"ftp_url":      {t.TempDir(), "ftp://x", secret, clock},
		"short_secret": {t.TempDir(), "http://x", []byte("short"), clock},
		"no_clock":     {t.TempDir(), "http://x", secret, nil},
	} {
		if s, err := localblob.New(c.dir, c.base, c.secret, c.clock); err == nil {
			_ = s.Close()
			t.Errorf("New(%s) succeeded, want an error", name)
		}
	}
}

// open returns a store in a fresh directory, and that directory.
func open(t *testing.T) (*localblob.Store, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := localblob.New(dir, "http://127.0.0.1", secret, testkit.NewClock(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, dir
}

// serve returns a store in dir whose presigned URLs are served by an HTTP
// server of the test, as the API serves them.
func serve(t *testing.T, dir string, clock ports.Clock) (*localblob.Store, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + l.Addr().String()
	s, err := localblob.New(dir, base, secret, clock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &httptest.Server{Listener: l, Config: &http.Server{Handler: uploadHandler(s), ReadHeaderTimeout: 5 * time.Second}}
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		_ = s.Close()
	})
	return s, base
}

// uploadHandler is the API's PUT route for presigned uploads, reduced to
// its essentials.
func uploadHandler(s *localblob.Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPut || r.URL.Path != localblob.UploadPath {
			http.NotFound(w, r)
			return
		}
		info, err := s.AcceptUpload(r.Context(), r.URL.Query().Get("t"), r.ContentLength, r.Header.Get("Content-Type"), r.Body)
		if err != nil {
			status := map[core.Kind]int{
				core.KindForbidden: http.StatusForbidden,
				core.KindInvalid:   http.StatusBadRequest,
				core.KindTooLarge:  http.StatusRequestEntityTooLarge,
			}[core.ErrorKind(err)]
			if status == 0 {
				status = http.StatusInternalServerError
			}
			http.Error(w, err.Error(), status)
			return
		}
		w.Header().Set("ETag", info.ETag)
		w.WriteHeader(http.StatusOK)
	})
}

// httpPut performs a presigned PUT as a browser would.
func httpPut(t *testing.T, p ports.PresignedPut, contentType string, body []byte) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, p.URL, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("presigned PUT request: %v", err)
	}
	for k, v := range p.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("presigned PUT: %v", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode >= 300 {
		t.Logf("presigned PUT (%d bytes, %s): %s %s", len(body), contentType, resp.Status, strings.TrimSpace(string(msg)))
	}
	return resp.StatusCode
}

// presignToken returns the t parameter of a 15-minute presigned URL.
func presignToken(t *testing.T, s *localblob.Store, key string, size int64, ct string) string {
	t.Helper()
	p, err := s.PresignPut(context.Background(), key, size, ct, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(p.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("t")
}

func wantContent(t *testing.T, s *localblob.Store, key, want string) {
	t.Helper()
	rc, _, err := s.Get(context.Background(), key, nil)
	if err != nil {
		t.Fatalf("Get(%s): %v", key, err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil || string(got) != want {
		t.Errorf("Get(%s) = %q, %v; want %q", key, got, err, want)
	}
}

func wantNoTemps(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, "tmp"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("temporary file left behind: %s", e.Name())
	}
}

// flip changes the first character of a base64url string.
func flip(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}

// zeros returns n zero bytes as a plain reader (no Seek, no WriteTo).
func zeros(n int64) io.Reader { return onlyReader{io.LimitReader(zeroReader{}, n)} }

type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// failing fails every Read with err.
type failing struct{ err error }

func (f failing) Read([]byte) (int, error) { return 0, f.err }
