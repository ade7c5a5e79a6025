package s3blob_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/gellhub/gellhub/adapters/s3blob"
	"github.com/gellhub/gellhub/adapters/s3blob/s3test"
	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
	"github.com/gellhub/gellhub/testkit"
)

// suitePartSize makes the suite's 20 MiB uploads four parts.
const suitePartSize = s3blob.MinPartSize

func TestBlobStoreSuite(t *testing.T) {
	t.Parallel()
	cfg := s3test.Start(t)
	cfg.PartSize = suitePartSize
	cfg.Concurrency = 2
	t.Logf("running the BlobStore suite on versitygw %s at %s", s3test.Version, cfg.Endpoint)
	testkit.RunBlobStoreSuite(t, func(t *testing.T) testkit.BlobUnderTest {
		// versitygw keeps real time: the expiry cases sleep past a short TTL.
		return testkit.BlobUnderTest{Store: openBucket(t, cfg), Put: httpPut, Expire: time.Sleep, ExpiryTTL: 2 * time.Second}
	})
}

func TestPresignedURLSignsLengthAndTypeOnly(t *testing.T) {
	t.Parallel()
	s, err := s3blob.New(context.Background(), s3blob.Config{
		Endpoint: "http://127.0.0.1:1", Bucket: "b", AccessKey: "a", SecretKey: "s", PathStyle: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.PresignPut(context.Background(), "k/photo.jpg", 1234, "image/jpeg", 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(p.URL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if got := q.Get("X-Amz-SignedHeaders"); got != "content-length;content-type;host" {
		t.Errorf("X-Amz-SignedHeaders = %q, want content-length;content-type;host", got)
	}
	if got := q.Get("X-Amz-Expires"); got != "600" {
		t.Errorf("X-Amz-Expires = %q, want 600", got)
	}
	// The 2025 default (WhenSupported) would add a checksum of an empty
	// body here, which no real upload matches.
	for k := range q {
		if strings.HasPrefix(strings.ToLower(k), "x-amz-checksum") || strings.EqualFold(k, "x-amz-sdk-checksum-algorithm") {
			t.Errorf("presigned URL carries %s=%s: checksums must be WhenRequired", k, q.Get(k))
		}
	}
	if d := time.Until(p.ExpiresAt); d < 9*time.Minute || d > 11*time.Minute {
		t.Errorf("ExpiresAt = %s, %s from now; want about 10 minutes", p.ExpiresAt, d)
	}
}

// TestUploadsAreUnsignedWithoutChecksumTrailers records what Put sends: no
// aws-chunked CRC32 trailer (third-party servers refuse it) and an
// UNSIGNED-PAYLOAD signature (the SDK cannot hash a stream over plain
// http), for a single PutObject and for every part of a multipart upload.
func TestUploadsAreUnsignedWithoutChecksumTrailers(t *testing.T) {
	t.Parallel()
	var requests atomic.Int32
	var bad atomic.Pointer[string]
	srv := fakeS3(t, func(r *http.Request) {
		requests.Add(1)
		if r.Method != http.MethodPut {
			return
		}
		var problems []string
		if v := r.Header.Get("X-Amz-Content-Sha256"); v != "UNSIGNED-PAYLOAD" {
			problems = append(problems, "x-amz-content-sha256="+v)
		}
		for _, h := range []string{"X-Amz-Trailer", "X-Amz-Sdk-Checksum-Algorithm", "X-Amz-Checksum-Crc32", "X-Amz-Decoded-Content-Length"} {
			if v := r.Header.Get(h); v != "" {
				problems = append(problems, h+"="+v)
			}
		}
		if strings.Contains(r.Header.Get("Content-Encoding"), "aws-chunked") {
			problems = append(problems, "content-encoding=aws-chunked")
		}
		if len(problems) > 0 {
			msg := r.URL.String() + ": " + strings.Join(problems, ", ")
			bad.Store(&msg)
		}
	})
	s, err := s3blob.New(context.Background(), s3blob.Config{
		Endpoint: srv, Bucket: "b", AccessKey: "a", SecretKey: "s", PathStyle: true, PartSize: s3blob.MinPartSize, Concurrency: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{10, 12 << 20} {
		body := bytes.Repeat([]byte{'x'}, size)
		info, err := s.Put(context.Background(), "k", onlyReader{bytes.NewReader(body)}, "text/plain", int64(size))
		if err != nil {
			t.Fatalf("Put of %d bytes: %v", size, err)
		}
		if info.Size != int64(size) {
			t.Errorf("Put size %d, want %d", info.Size, size)
		}
	}
	if p := bad.Load(); p != nil {
		t.Errorf("an upload request was not plain and unsigned: %s", *p)
	}
	if requests.Load() < 5 { // PutObject; Create, 3 × UploadPart, Complete
		t.Errorf("the fake server saw %d requests, want a PutObject and a multipart upload", requests.Load())
	}
}

// TestPutMemoryIsBounded streams 256 MiB through Put with the default part
// size and concurrency and checks what it allocated: about (Concurrency +
// 2) × PartSize (48 MiB), not the object. It runs alone (not parallel), so
// that the process's allocations are Put's.
func TestPutMemoryIsBounded(t *testing.T) {
	cfg := s3test.Start(t) // the default 8 MiB × 4
	s := openBucket(t, cfg)
	const size = 256 << 20
	bound := uint64(2 * (s3blob.DefaultConcurrency + 2) * s3blob.DefaultPartSize)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	info, err := s.Put(context.Background(), "big/stream", zeros(size), "application/octet-stream", 1<<40)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatalf("Put of %d MiB: %v", size>>20, err)
	}
	if info.Size != size {
		t.Errorf("Put size %d, want %d", info.Size, size)
	}
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("Put of %d MiB allocated %d MiB", size>>20, allocated>>20)
	if allocated > bound {
		t.Errorf("Put of %d MiB allocated %d MiB, want under %d MiB", size>>20, allocated>>20, bound>>20)
	}
}

func TestPresignedURLExpires(t *testing.T) {
	t.Parallel()
	s := openBucket(t, s3test.Start(t))
	body := []byte("too late")
	p, err := s.PresignPut(context.Background(), "k/late.txt", int64(len(body)), "text/plain", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(p.ExpiresAt) + 1100*time.Millisecond) // S3's clock reads whole seconds
	if st := httpPut(t, p, "text/plain", body); st != http.StatusForbidden {
		t.Errorf("presigned PUT after expiry: status %d, want 403", st)
	}
	if _, err := s.Head(context.Background(), "k/late.txt"); !core.IsKind(err, core.KindNotFound) {
		t.Errorf("Head after an expired PUT: %v, want KindNotFound", err)
	}
}

func TestAbortedPutLeavesNoMultipartUpload(t *testing.T) {
	t.Parallel()
	cfg := s3test.Start(t)
	cfg.PartSize = s3blob.MinPartSize
	cfg.Concurrency = 2
	s := openBucket(t, cfg)
	ctx := context.Background()

	t.Run("too_large", func(t *testing.T) {
		_, err := s.Put(ctx, "big/too-large", zeros(20<<20), "application/octet-stream", 12<<20)
		if !core.IsKind(err, core.KindTooLarge) {
			t.Fatalf("Put of 20 MiB with a 12 MiB limit: %v (kind %s), want KindTooLarge", err, core.ErrorKind(err))
		}
	})
	t.Run("reader_error", func(t *testing.T) {
		boom := errors.New("client went away")
		_, err := s.Put(ctx, "big/broken", io.MultiReader(zeros(11<<20), failing{boom}), "application/octet-stream", 1<<30)
		if !errors.Is(err, boom) {
			t.Fatalf("Put whose reader fails after 11 MiB: %v, want the reader's error", err)
		}
	})
	t.Run("caller_canceled", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		r := io.MultiReader(zeros(11<<20), cancelOnRead{cancel}, zeros(10<<20))
		_, err := s.Put(cctx, "big/canceled", r, "application/octet-stream", 1<<30)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Put canceled after 11 MiB: %v, want context.Canceled", err)
		}
	})

	raw := rawClient(cfg)
	uploads, err := raw.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(s.Bucket())})
	if err != nil {
		t.Fatalf("ListMultipartUploads: %v", err)
	}
	for _, u := range uploads.Uploads {
		t.Errorf("multipart upload left behind: key %q, id %s", aws.ToString(u.Key), aws.ToString(u.UploadId))
	}
	objects, err := raw.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(s.Bucket())})
	if err != nil {
		t.Fatalf("ListObjectsV2: %v", err)
	}
	for _, o := range objects.Contents {
		t.Errorf("object left behind: %q (%d bytes)", aws.ToString(o.Key), aws.ToInt64(o.Size))
	}
}

func TestUnreachableServerIsUnavailableQuickly(t *testing.T) {
	t.Parallel()
	s, err := s3blob.New(context.Background(), s3blob.Config{
		Endpoint: "http://" + closedAddr(t), Bucket: "b", AccessKey: "a", SecretKey: "s", PathStyle: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	const quickly = 5 * time.Second
	ops := map[string]func(ctx context.Context) error{
		"Ping":         s.Ping,
		"EnsureBucket": s.EnsureBucket,
		"Head":         func(ctx context.Context) error { _, err := s.Head(ctx, "k"); return err },
		"Get": func(ctx context.Context) error {
			rc, _, err := s.Get(ctx, "k", &ports.ByteRange{Start: 0, End: 9})
			if rc != nil {
				_ = rc.Close()
			}
			return err
		},
		"Put": func(ctx context.Context) error {
			_, err := s.Put(ctx, "k", strings.NewReader("x"), "text/plain", 10)
			return err
		},
		"Delete": func(ctx context.Context) error { return s.Delete(ctx, "k") },
	}
	for name, op := range ops {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			err := op(context.Background())
			took := time.Since(start)
			if !core.IsKind(err, core.KindUnavailable) {
				t.Errorf("%s on a closed port: %v (kind %s), want KindUnavailable", name, err, core.ErrorKind(err))
			}
			if took > quickly {
				t.Errorf("%s on a closed port took %s, want under %s", name, took, quickly)
			}
		})
	}
}

func TestCallerCancellationPassesThrough(t *testing.T) {
	t.Parallel()
	s, err := s3blob.New(context.Background(), s3blob.Config{
		Endpoint: "http://" + closedAddr(t), Bucket: "b", AccessKey: "a", SecretKey: "s", PathStyle: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = s.Head(ctx, "k")
	if !errors.Is(err, context.Canceled) || core.IsKind(err, core.KindUnavailable) {
		t.Errorf("Head with a canceled context: %v (kind %s), want context.Canceled, not unavailable", err, core.ErrorKind(err))
	}
}

func TestPingOfMissingBucketIsUnavailable(t *testing.T) {
	t.Parallel()
	cfg := s3test.Start(t)
	cfg.Bucket = "no-such-bucket"
	s, err := s3blob.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(context.Background()); !core.IsKind(err, core.KindUnavailable) {
		t.Errorf("Ping of a missing bucket: %v (kind %s), want KindUnavailable", err, core.ErrorKind(err))
	}
	if err := s.EnsureBucket(context.Background()); err != nil {
		t.Fatalf("EnsureBucket: %v", err)
	}
	if err := s.Ping(context.Background()); err != nil {
		t.Errorf("Ping after EnsureBucket: %v", err)
	}
	if err := s.EnsureBucket(context.Background()); err != nil {
		t.Errorf("EnsureBucket of an existing bucket: %v", err)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	for name, cfg := range map[string]s3blob.Config{
		"no_bucket":        {AccessKey: "a", SecretKey: "s"},
		"half_credentials": {Bucket: "b", AccessKey: "a"},
		"tiny_parts":       {Bucket: "b", AccessKey: "a", SecretKey: "s", PartSize: 1 << 20},
		"negative_workers": {Bucket: "b", AccessKey: "a", SecretKey: "s", Concurrency: -1},
	} {
		if _, err := s3blob.New(context.Background(), cfg); err == nil {
			t.Errorf("New(%s) succeeded, want an error", name)
		}
	}
}

// bucketSeq names the suite's buckets: one per sub-test, on one server.
var bucketSeq atomic.Int64

// openBucket returns a store on a new, empty bucket of cfg's server.
func openBucket(t *testing.T, cfg s3blob.Config) *s3blob.Store {
	t.Helper()
	cfg.Bucket = fmt.Sprintf("gellhub-test-%d", bucketSeq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := s3blob.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureBucket(ctx); err != nil {
		t.Fatalf("EnsureBucket(%s): %v", cfg.Bucket, err)
	}
	return s
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
		t.Logf("presigned PUT (%d bytes, %s): %s %s", len(body), contentType, resp.Status, strings.Join(strings.Fields(string(msg)), " "))
	}
	return resp.StatusCode
}

// rawClient is a plain SDK client on cfg's server, to look behind the store.
func rawClient(cfg s3blob.Config) *s3.Client {
	return s3.New(s3.Options{
		Region:                     cfg.Region,
		BaseEndpoint:               aws.String(cfg.Endpoint),
		UsePathStyle:               true,
		Credentials:                credentials.NewStaticCredentialsProvider(cfg.AccessKey, cfg.SecretKey, ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

// closedAddr returns a loopback address where nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// fakeS3 is a minimal S3 that accepts any PutObject and multipart upload,
// calling seen with each request (its body read already). It returns the
// server's URL.
func fakeS3(t *testing.T, seen func(r *http.Request)) string {
	t.Helper()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		seen(r)
		q := r.URL.Query()
		w.Header().Set("ETag", `"0123456789abcdef"`)
		switch {
		case r.Method == http.MethodPost && q.Has("uploads"):
			fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>up1</UploadId></InitiateMultipartUploadResult>`)
		case r.Method == http.MethodPost && q.Has("uploadId"):
			fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><ETag>"0123456789abcdef-3"</ETag></CompleteMultipartUploadResult>`)
		case r.Method == http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
		}
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + l.Addr().String()
}

// onlyReader hides every method of its reader but Read.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// zeros returns n zero bytes as a plain reader.
func zeros(n int64) io.Reader { return onlyReader{io.LimitReader(zeroReader{}, n)} }

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// failing fails every Read with err.
type failing struct{ err error }

func (f failing) Read([]byte) (int, error) { return 0, f.err }

// cancelOnRead cancels its context on the first Read, then reads nothing.
type cancelOnRead struct{ cancel context.CancelFunc }

func (c cancelOnRead) Read([]byte) (int, error) {
	c.cancel()
	return 0, io.EOF
}
