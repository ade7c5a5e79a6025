package uploads_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/uploads"
	"github.com/gellhub/gellhub/ports"
	"github.com/gellhub/gellhub/testkit"
)

var start = time.Date(2026, 7, 1, 10, 0, 0, 0, time.UTC)

// recordingBlobs remembers every key a streamed Put was asked to store,
// to prove that nothing stays behind after a failure.
type recordingBlobs struct {
	*testkit.BlobStore
	mu         sync.Mutex
	puts       []string
	presignErr error // injected failures
	deleteErr  error
}

func (r *recordingBlobs) PresignPut(ctx context.Context, key string, size int64, contentType string, ttl time.Duration) (ports.PresignedPut, error) {
	if r.presignErr != nil {
		return ports.PresignedPut{}, r.presignErr
	}
	return r.BlobStore.PresignPut(ctx, key, size, contentType, ttl)
}

func (r *recordingBlobs) Delete(ctx context.Context, key string) error {
	if r.deleteErr != nil {
		return r.deleteErr
	}
	return r.BlobStore.Delete(ctx, key)
}

func (r *recordingBlobs) Put(ctx context.Context, key string, body io.Reader, contentType string, max int64) (ports.BlobInfo, error) {
	r.mu.Lock()
	r.puts = append(r.puts, key)
	r.mu.Unlock()
	return r.BlobStore.Put(ctx, key, body, contentType, max)
}

// requireNothingStored asserts that no streamed object is left.
func (r *recordingBlobs) requireNothingStored(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range r.puts {
		_, err := r.Head(context.Background(), k)
		require.True(t, core.IsKind(err, core.KindNotFound), "object %s left behind: %v", k, err)
	}
}

type fixture struct {
	clock *testkit.Clock
	store *testkit.Store
	blobs *recordingBlobs
	svc   *uploads.Service
	owner uploads.Owner
}

func newFixture(t *testing.T, limit int64, mutate ...func(*uploads.Config)) *fixture {
	t.Helper()
	clock := testkit.NewClock(start)
	f := &fixture{
		clock: clock,
		store: testkit.NewStore(),
		blobs: &recordingBlobs{BlobStore: testkit.NewBlobStore(clock)},
		owner: uploads.Owner{ID: "studio_test1", Line: core.LineClientGallery, Limit: limit},
	}
	cfg := uploads.Config{Blobs: f.blobs, Quota: f.store, Clock: clock, Random: rand.Reader}
	for _, m := range mutate {
		m(&cfg)
	}
	f.svc = uploads.New(cfg)
	return f
}

func (f *fixture) usage(t *testing.T) core.Usage {
	t.Helper()
	u, err := f.svc.Usage(context.Background(), f.owner)
	require.NoError(t, err)
	return u
}

func (f *fixture) presign(t *testing.T, name string, size int64) uploads.Presigned {
	t.Helper()
	p, err := f.svc.Presign(context.Background(), f.owner, uploads.FileInput{FileName: name, ContentType: "image/jpeg", SizeBytes: size})
	require.NoError(t, err)
	return p
}

// put performs the client's presigned PUT of size bytes.
func (f *fixture) put(t *testing.T, p uploads.Presigned, body []byte) {
	t.Helper()
	require.NoError(t, f.blobs.Upload(p.Put.URL, p.Put.Headers["Content-Type"], body))
}

func requireKind(t *testing.T, err error, kind core.Kind, detail string) *core.Error {
	t.Helper()
	require.Error(t, err)
	var e *core.Error
	require.True(t, errors.As(err, &e), "not a core.Error: %v", err)
	require.Equal(t, kind, e.Kind, "got %v", err)
	if detail != "" {
		require.Equal(t, detail, e.Detail, "got %v", err)
	}
	return e
}

func TestPresign(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("validates_the_file_and_reserves_nothing_when_invalid", func(t *testing.T) {
		f := newFixture(t, 1<<30, func(c *uploads.Config) { c.MaxFileBytes = 1000 })
		cases := []struct {
			name   string
			in     uploads.FileInput
			kind   core.Kind
			detail string
		}{
			{"file_name_missing", uploads.FileInput{ContentType: "image/jpeg", SizeBytes: 10}, core.KindInvalid, "fileName"},
			{"file_name_blank", uploads.FileInput{FileName: " \t ", ContentType: "image/jpeg", SizeBytes: 10}, core.KindInvalid, "fileName"},
			{"file_name_over_1024_bytes", uploads.FileInput{FileName: strings.Repeat("a", 1025), ContentType: "image/jpeg", SizeBytes: 10}, core.KindInvalid, "fileName"},
			{"content_type_missing", uploads.FileInput{FileName: "a.jpg", SizeBytes: 10}, core.KindInvalid, "contentType"},
			{"content_type_malformed", uploads.FileInput{FileName: "a.jpg", ContentType: "jpeg", SizeBytes: 10}, core.KindInvalid, "contentType"},
			{"content_type_with_crlf", uploads.FileInput{FileName: "a.jpg", ContentType: "image/jpeg\r\nX: y", SizeBytes: 10}, core.KindInvalid, "contentType"},
			{"size_zero", uploads.FileInput{FileName: "a.jpg", ContentType: "image/jpeg"}, core.KindInvalid, "sizeBytes"},
			{"size_negative", uploads.FileInput{FileName: "a.jpg", ContentType: "image/jpeg", SizeBytes: -1}, core.KindInvalid, "sizeBytes"},
			{"size_over_max_file_bytes", uploads.FileInput{FileName: "a.jpg", ContentType: "image/jpeg", SizeBytes: 1001}, core.KindTooLarge, "sizeBytes"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, err := f.svc.Presign(ctx, f.owner, tc.in)
				requireKind(t, err, tc.kind, tc.detail)
			})
		}
		require.Equal(t, core.Usage{}, f.usage(t), "a refused presign reserves nothing")
	})

	t.Run("exactly_max_file_bytes_is_accepted", func(t *testing.T) {
		f := newFixture(t, 1<<30, func(c *uploads.Config) { c.MaxFileBytes = 1000 })
		require.EqualValues(t, 1000, f.svc.MaxFileBytes())
		f.presign(t, "a.jpg", 1000)
	})

	t.Run("defaults_apply_to_a_zero_config", func(t *testing.T) {
		f := newFixture(t, 1<<40)
		require.Equal(t, uploads.DefaultMaxFileBytes, f.svc.MaxFileBytes())
		p := f.presign(t, "a.jpg", 10)
		require.Equal(t, start.Add(uploads.DefaultPresignTTL), p.Put.ExpiresAt)
		_, err := f.svc.Presign(ctx, f.owner, uploads.FileInput{FileName: "big.mov", ContentType: "video/mp4", SizeBytes: uploads.DefaultMaxFileBytes + 1})
		requireKind(t, err, core.KindTooLarge, "sizeBytes")
	})

	t.Run("reserves_the_bytes_under_a_namespaced_key", func(t *testing.T) {
		f := newFixture(t, 1<<30)
		p := f.presign(t, `../..\evil/"IMG 1".jpg`, 1234)
		require.True(t, strings.HasPrefix(p.StorageKey, "clientGallery/studio_test1/up_"), p.StorageKey)
		require.True(t, strings.HasSuffix(p.StorageKey, `/_IMG 1_.jpg`), p.StorageKey)
		require.NotContains(t, p.StorageKey, "..")
		require.True(t, f.owner.Owns(p.StorageKey))
		require.Equal(t, "image/jpeg", p.Put.Headers["Content-Type"])
		require.LessOrEqual(t, p.Put.ExpiresAt.Sub(start), time.Hour, "the PUT URL is valid at most an hour")
		require.Equal(t, core.Usage{ReservedBytes: 1234}, f.usage(t))

		r, err := f.store.ReservationByKey(ctx, f.owner.ID, p.StorageKey)
		require.NoError(t, err)
		require.EqualValues(t, 1234, r.Bytes)
		require.Equal(t, start.Add(uploads.DefaultReservationTTL), r.ExpiresAt)

		q := f.presign(t, `../..\evil/"IMG 1".jpg`, 1)
		require.NotEqual(t, p.StorageKey, q.StorageKey, "every presign gets its own key")
		require.Equal(t, core.Usage{ReservedBytes: 1235}, f.usage(t))
	})

	t.Run("quota_counts_open_reservations", func(t *testing.T) {
		f := newFixture(t, 100)
		f.presign(t, "a.jpg", 60)
		_, err := f.svc.Presign(ctx, f.owner, uploads.FileInput{FileName: "b.jpg", ContentType: "image/jpeg", SizeBytes: 41})
		e := requireKind(t, err, core.KindQuotaExceeded, "")
		require.Equal(t, "quota_exceeded", e.Code)
		require.Equal(t, core.Usage{ReservedBytes: 60}, f.usage(t), "a refused presign changes nothing")
		f.presign(t, "c.jpg", 40)
		require.Equal(t, core.Usage{ReservedBytes: 100}, f.usage(t))
		_, err = f.svc.Presign(ctx, f.owner, uploads.FileInput{FileName: "d.jpg", ContentType: "image/jpeg", SizeBytes: 1})
		requireKind(t, err, core.KindQuotaExceeded, "")
	})

	t.Run("quotas_are_per_owner", func(t *testing.T) {
		f := newFixture(t, 100)
		f.presign(t, "a.jpg", 100)
		other := uploads.Owner{ID: "studio_test2", Line: core.LineClientGallery, Limit: 100}
		p, err := f.svc.Presign(ctx, other, uploads.FileInput{FileName: "a.jpg", ContentType: "image/jpeg", SizeBytes: 100})
		require.NoError(t, err)
		require.True(t, other.Owns(p.StorageKey))
		require.False(t, f.owner.Owns(p.StorageKey))
	})

	t.Run("twenty_goroutines_racing_for_the_last_bytes_never_overshoot", func(t *testing.T) {
		const (
			limit   = 10_000
			already = 9_930 // 70 bytes left: room for exactly 7 uploads of 10
			each    = 10
			racers  = 20
		)
		for round := range 5 {
			f := newFixture(t, limit)
			f.presign(t, "big.jpg", already)
			var wg sync.WaitGroup
			var ok, over atomic.Int32
			gate := make(chan struct{})
			errs := make(chan error, 2*racers)
			for i := range racers {
				wg.Go(func() {
					<-gate
					_, err := f.svc.Presign(ctx, f.owner, uploads.FileInput{FileName: "p.jpg", ContentType: "image/jpeg", SizeBytes: each})
					switch {
					case err == nil:
						ok.Add(1)
					case core.IsKind(err, core.KindQuotaExceeded):
						over.Add(1)
					default:
						errs <- err
					}
					if u, err := f.svc.Usage(ctx, f.owner); err != nil {
						errs <- err
					} else if u.UsedBytes+u.ReservedBytes > limit {
						errs <- fmt.Errorf("racer %d saw %d bytes held of %d", i, u.UsedBytes+u.ReservedBytes, limit)
					}
				})
			}
			close(gate)
			wg.Wait()
			close(errs)
			for err := range errs {
				require.NoError(t, err, "round %d", round)
			}
			require.EqualValues(t, 7, ok.Load(), "round %d: exactly the uploads that fit succeed", round)
			require.EqualValues(t, racers-7, over.Load(), "round %d", round)
			require.Equal(t, core.Usage{ReservedBytes: limit}, f.usage(t), "round %d", round)
		}
	})
}

func TestCheck(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	content := bytes.Repeat([]byte("x"), 500)

	t.Run("ok_returns_the_reservation_and_the_object", func(t *testing.T) {
		f := newFixture(t, 1<<20)
		p := f.presign(t, "a.jpg", 500)
		f.put(t, p, content)
		r, info, err := f.svc.Check(ctx, f.owner, p.StorageKey, 500)
		require.NoError(t, err)
		require.Equal(t, p.StorageKey, r.StorageKey)
		require.EqualValues(t, 500, r.Bytes)
		require.EqualValues(t, 500, info.Size)
		require.NotEmpty(t, info.ETag)
		require.Equal(t, core.Usage{ReservedBytes: 500}, f.usage(t), "settling is the caller's (CompleteUpload)")
	})

	t.Run("storage_key_required", func(t *testing.T) {
		f := newFixture(t, 1<<20)
		_, _, err := f.svc.Check(ctx, f.owner, "", 500)
		requireKind(t, err, core.KindInvalid, "storageKey")
	})

	t.Run("foreign_key_is_forbidden", func(t *testing.T) {
		f := newFixture(t, 1<<20)
		other := uploads.Owner{ID: "studio_test2", Line: core.LineClientGallery, Limit: 1 << 20}
		p, err := f.svc.Presign(ctx, other, uploads.FileInput{FileName: "a.jpg", ContentType: "image/jpeg", SizeBytes: 500})
		require.NoError(t, err)
		f.put(t, p, content)
		for _, key := range []string{
			p.StorageKey,                                 // another studio's
			"drive/studio_test1/up_x/a.jpg",              // another line's namespace
			"clientGallery/studio_test10/up_x/a.jpg",     // a prefix of the id is not the id
			"clientGallery/studio_test1/../studio_test2", // traversal
			"clientGallery/studio_test1/up_" + strings.Repeat("x", 2048),
		} {
			_, _, err := f.svc.Check(ctx, f.owner, key, 500)
			requireKind(t, err, core.KindForbidden, "")
		}
		// Its owner can still complete it.
		_, _, err = f.svc.Check(ctx, other, p.StorageKey, 500)
		require.NoError(t, err)
	})

	t.Run("own_prefix_never_presigned_is_forbidden", func(t *testing.T) {
		f := newFixture(t, 1<<20)
		_, _, err := f.svc.Check(ctx, f.owner, "clientGallery/studio_test1/up_made_up/a.jpg", 500)
		requireKind(t, err, core.KindForbidden, "")
	})

	t.Run("declared_size_differs_from_reserved_is_invalid", func(t *testing.T) {
		f := newFixture(t, 1<<20)
		p := f.presign(t, "a.jpg", 500)
		f.put(t, p, content)
		_, _, err := f.svc.Check(ctx, f.owner, p.StorageKey, 501)
		e := requireKind(t, err, core.KindInvalid, "sizeBytes")
		require.Equal(t, "upload_incomplete_or_mismatch", e.Code)
		// Nothing was removed: the right size still completes.
		_, _, err = f.svc.Check(ctx, f.owner, p.StorageKey, 500)
		require.NoError(t, err)
	})

	t.Run("object_missing_is_a_retryable_conflict", func(t *testing.T) {
		f := newFixture(t, 1<<20)
		p := f.presign(t, "a.jpg", 500)
		for range 2 {
			_, _, err := f.svc.Check(ctx, f.owner, p.StorageKey, 500)
			e := requireKind(t, err, core.KindConflict, "object_not_visible_yet_retry_complete")
			require.Equal(t, "upload_incomplete_or_mismatch", e.Code)
		}
		require.Equal(t, core.Usage{ReservedBytes: 500}, f.usage(t), "the reservation stays for the retry")
		f.put(t, p, content)
		_, _, err := f.svc.Check(ctx, f.owner, p.StorageKey, 500)
		require.NoError(t, err, "retrying complete after the PUT succeeds")
	})

	t.Run("wrong_object_size_removes_it_and_releases_the_reservation", func(t *testing.T) {
		f := newFixture(t, 1<<20)
		p := f.presign(t, "a.jpg", 500)
		// A storage that did not enforce the signed length (or a bug).
		_, err := f.blobs.Put(ctx, p.StorageKey, bytes.NewReader(content[:499]), "image/jpeg", 1<<20)
		require.NoError(t, err)
		_, _, err = f.svc.Check(ctx, f.owner, p.StorageKey, 500)
		e := requireKind(t, err, core.KindInvalid, "size_mismatch")
		require.Equal(t, "upload_incomplete_or_mismatch", e.Code)

		_, err = f.blobs.Head(ctx, p.StorageKey)
		require.True(t, core.IsKind(err, core.KindNotFound), "the object is removed: %v", err)
		require.Equal(t, core.Usage{}, f.usage(t), "the reservation is released")
		_, err = f.store.ReservationByKey(ctx, f.owner.ID, p.StorageKey)
		require.True(t, core.IsKind(err, core.KindNotFound))
		_, _, err = f.svc.Check(ctx, f.owner, p.StorageKey, 500)
		requireKind(t, err, core.KindForbidden, "")
	})

	t.Run("expired_reservation_is_forbidden", func(t *testing.T) {
		f := newFixture(t, 1<<20)
		p := f.presign(t, "a.jpg", 500)
		f.put(t, p, content)
		// Complete stops a minute before the reservation expires, so that it
		// never races the expiry job over the object.
		f.clock.Advance(uploads.DefaultReservationTTL - time.Minute - time.Second)
		_, _, err := f.svc.Check(ctx, f.owner, p.StorageKey, 500)
		require.NoError(t, err)
		f.clock.Advance(time.Second)
		_, _, err = f.svc.Check(ctx, f.owner, p.StorageKey, 500)
		requireKind(t, err, core.KindForbidden, "")
	})

	t.Run("custom_reservation_ttl", func(t *testing.T) {
		f := newFixture(t, 1<<20, func(c *uploads.Config) { c.ReservationTTL = 10 * time.Minute; c.PresignTTL = 5 * time.Minute })
		p := f.presign(t, "a.jpg", 500)
		require.Equal(t, start.Add(5*time.Minute), p.Put.ExpiresAt)
		f.put(t, p, content)
		f.clock.Advance(9*time.Minute + time.Second)
		_, _, err := f.svc.Check(ctx, f.owner, p.StorageKey, 500)
		requireKind(t, err, core.KindForbidden, "")
	})
}

// countingReader counts the bytes read from it.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func TestStream(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("stores_the_body_and_holds_at_most_max", func(t *testing.T) {
		f := newFixture(t, 1<<20)
		body := bytes.Repeat([]byte("abc"), 1000)
		st, err := f.svc.Stream(ctx, f.owner, "../x/Photo 1.png", "image/png", bytes.NewReader(body), 5000)
		require.NoError(t, err)
		require.Equal(t, "Photo 1.png", st.Name)
		require.EqualValues(t, len(body), st.Info.Size)
		require.Equal(t, "image/png", st.Info.ContentType)
		require.True(t, f.owner.Owns(st.Info.Key))
		require.EqualValues(t, 5000, st.Reservation.Bytes, "the request's length bounds the file's")
		require.Equal(t, core.Usage{ReservedBytes: 5000}, f.usage(t))
		rc, _, err := f.blobs.Get(ctx, st.Info.Key, nil)
		require.NoError(t, err)
		got, err := io.ReadAll(rc)
		require.NoError(t, err)
		require.Equal(t, body, got)

		f.svc.Abandon(ctx, st)
		require.Equal(t, core.Usage{}, f.usage(t), "Abandon releases")
		f.blobs.requireNothingStored(t)
	})

	t.Run("empty_content_type_is_octet_stream", func(t *testing.T) {
		f := newFixture(t, 1<<20)
		st, err := f.svc.Stream(ctx, f.owner, "blob", "", strings.NewReader("data"), 100)
		require.NoError(t, err)
		require.Equal(t, "application/octet-stream", st.Info.ContentType)
	})

	t.Run("over_max_is_too_large_and_nothing_stays", func(t *testing.T) {
		f := newFixture(t, 1<<20)
		_, err := f.svc.Stream(ctx, f.owner, "a.bin", "application/octet-stream", bytes.NewReader(make([]byte, 101)), 100)
		requireKind(t, err, core.KindTooLarge, "file")
		require.Equal(t, core.Usage{}, f.usage(t))
		f.blobs.requireNothingStored(t)
	})

	t.Run("over_the_per_file_limit_is_too_large_whatever_max", func(t *testing.T) {
		f := newFixture(t, 1<<20, func(c *uploads.Config) { c.MaxFileBytes = 100 })
		_, err := f.svc.Stream(ctx, f.owner, "a.bin", "application/octet-stream", bytes.NewReader(make([]byte, 101)), 1<<20)
		requireKind(t, err, core.KindTooLarge, "file")
		require.Equal(t, core.Usage{}, f.usage(t))
		f.blobs.requireNothingStored(t)
		// At the limit it fits, and only the per-file limit is reserved.
		st, err := f.svc.Stream(ctx, f.owner, "a.bin", "application/octet-stream", bytes.NewReader(make([]byte, 100)), 1<<20)
		require.NoError(t, err)
		require.EqualValues(t, 100, st.Reservation.Bytes)
	})

	t.Run("a_file_that_fits_is_taken_whatever_the_request_length", func(t *testing.T) {
		f := newFixture(t, 1000)
		f.presign(t, "held.jpg", 900)
		// 100 bytes are left; the request (200) is larger than that, the
		// file (100, exactly what is left) is not.
		st, err := f.svc.Stream(ctx, f.owner, "a.bin", "application/octet-stream", bytes.NewReader(make([]byte, 100)), 200)
		require.NoError(t, err)
		require.EqualValues(t, 100, st.Info.Size)
		require.Equal(t, core.Usage{ReservedBytes: 1000}, f.usage(t), "the reservation holds what was left")
	})

	t.Run("a_file_past_the_quota_is_cut_and_nothing_kept", func(t *testing.T) {
		f := newFixture(t, 1000)
		f.presign(t, "held.jpg", 900)
		_, err := f.svc.Stream(ctx, f.owner, "a.bin", "application/octet-stream", bytes.NewReader(make([]byte, 150)), 200)
		e := requireKind(t, err, core.KindQuotaExceeded, "")
		require.Equal(t, "quota_exceeded", e.Code)
		require.Equal(t, core.Usage{ReservedBytes: 900}, f.usage(t), "nothing counted")
		f.blobs.requireNothingStored(t)
	})

	t.Run("a_full_quota_reads_nothing", func(t *testing.T) {
		f := newFixture(t, 1000)
		f.presign(t, "held.jpg", 1000)
		body := &countingReader{r: bytes.NewReader(make([]byte, 50))}
		_, err := f.svc.Stream(ctx, f.owner, "a.bin", "application/octet-stream", body, 200)
		requireKind(t, err, core.KindQuotaExceeded, "")
		require.Zero(t, body.n.Load())
		require.Equal(t, core.Usage{ReservedBytes: 1000}, f.usage(t))
	})

	t.Run("empty_file_is_invalid", func(t *testing.T) {
		f := newFixture(t, 1<<20)
		_, err := f.svc.Stream(ctx, f.owner, "empty.txt", "text/plain", strings.NewReader(""), 100)
		requireKind(t, err, core.KindInvalid, "file")
		require.Equal(t, core.Usage{}, f.usage(t))
		f.blobs.requireNothingStored(t)
	})

	t.Run("bad_name_or_type_is_invalid_before_anything", func(t *testing.T) {
		f := newFixture(t, 1<<20)
		_, err := f.svc.Stream(ctx, f.owner, "  ", "text/plain", strings.NewReader("x"), 100)
		requireKind(t, err, core.KindInvalid, "file")
		_, err = f.svc.Stream(ctx, f.owner, "a.txt", "text", strings.NewReader("x"), 100)
		requireKind(t, err, core.KindInvalid, "file")
		require.Equal(t, core.Usage{}, f.usage(t))
		require.Empty(t, f.blobs.puts)
	})

	t.Run("reader_failure_stores_and_counts_nothing", func(t *testing.T) {
		f := newFixture(t, 1<<20)
		boom := errors.New("client went away")
		body := io.MultiReader(strings.NewReader("partial"), iotest.ErrReader(boom))
		_, err := f.svc.Stream(ctx, f.owner, "a.txt", "text/plain", body, 100)
		require.ErrorIs(t, err, boom)
		require.Equal(t, core.Usage{}, f.usage(t))
		f.blobs.requireNothingStored(t)
	})

	t.Run("cancelled_context_stores_and_counts_nothing", func(t *testing.T) {
		f := newFixture(t, 1<<20)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := f.svc.Stream(cctx, f.owner, "a.txt", "text/plain", strings.NewReader("data"), 100)
		require.Error(t, err)
		require.Equal(t, core.Usage{}, f.usage(t))
		f.blobs.requireNothingStored(t)
	})
}

func TestExpireReservations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, 1<<20)
	uploaded := f.presign(t, "uploaded.jpg", 3)
	f.put(t, uploaded, []byte("abc"))
	never := f.presign(t, "never.jpg", 7)
	st, err := f.svc.Stream(ctx, f.owner, "streaming.bin", "", strings.NewReader("stream"), 100)
	require.NoError(t, err)
	require.Equal(t, core.Usage{ReservedBytes: 110}, f.usage(t))

	n, err := f.svc.ExpireReservations(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "nothing has expired yet")

	f.clock.Advance(uploads.DefaultReservationTTL)
	n, err = f.svc.ExpireReservations(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, n, "the presigned ones expire; a proxy upload in flight lives longer")
	for _, key := range []string{uploaded.StorageKey, never.StorageKey} {
		_, err := f.blobs.Head(ctx, key)
		require.True(t, core.IsKind(err, core.KindNotFound), "%s removed: %v", key, err)
		_, _, err = f.svc.Check(ctx, f.owner, key, 3)
		requireKind(t, err, core.KindForbidden, "")
	}
	require.Equal(t, core.Usage{ReservedBytes: 100}, f.usage(t))

	f.clock.Advance(uploads.StreamReservationTTL)
	n, err = f.svc.ExpireReservations(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	_, err = f.blobs.Head(ctx, st.Info.Key)
	require.True(t, core.IsKind(err, core.KindNotFound))
	require.Equal(t, core.Usage{}, f.usage(t), "every reserved byte is back")

	n, err = f.svc.ExpireReservations(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "idempotent")
}

func TestFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("presign_failure_releases_the_reservation", func(t *testing.T) {
		f := newFixture(t, 1<<20)
		f.blobs.presignErr = errors.New("s3 down")
		_, err := f.svc.Presign(ctx, f.owner, uploads.FileInput{FileName: "a.jpg", ContentType: "image/jpeg", SizeBytes: 10})
		require.ErrorContains(t, err, "s3 down")
		require.Equal(t, core.Usage{}, f.usage(t))
	})

	t.Run("no_randomness_is_internal_and_reserves_nothing", func(t *testing.T) {
		f := newFixture(t, 1<<20, func(c *uploads.Config) { c.Random = iotest.ErrReader(errors.New("no entropy")) })
		_, err := f.svc.Presign(ctx, f.owner, uploads.FileInput{FileName: "a.jpg", ContentType: "image/jpeg", SizeBytes: 10})
		requireKind(t, err, core.KindInternal, "")
		_, err = f.svc.Stream(ctx, f.owner, "a.jpg", "image/jpeg", strings.NewReader("x"), 10)
		requireKind(t, err, core.KindInternal, "")
		require.Equal(t, core.Usage{}, f.usage(t))
	})

	t.Run("expiry_keeps_the_reservation_when_the_object_cannot_be_removed", func(t *testing.T) {
		f := newFixture(t, 1<<20)
		p := f.presign(t, "a.jpg", 10)
		f.put(t, p, make([]byte, 10))
		f.clock.Advance(uploads.DefaultReservationTTL)
		f.blobs.deleteErr = errors.New("s3 down")
		n, err := f.svc.ExpireReservations(ctx)
		require.ErrorContains(t, err, "s3 down")
		require.Zero(t, n)
		require.Equal(t, core.Usage{ReservedBytes: 10}, f.usage(t), "released only once the object is gone: the next run retries")
		f.blobs.deleteErr = nil
		n, err = f.svc.ExpireReservations(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		require.Equal(t, core.Usage{}, f.usage(t))
	})
}

func TestOwnerOwns(t *testing.T) {
	t.Parallel()
	o := uploads.Owner{ID: "drive_1", Line: core.LineDrive}
	require.True(t, o.Owns("drive/drive_1/up_1/a.jpg"))
	require.False(t, o.Owns("drive/drive_10/up_1/a.jpg"))
	require.False(t, o.Owns("clientGallery/drive_1/up_1/a.jpg"))
	require.False(t, o.Owns("drive/drive_1/../drive_2/a.jpg"))
	require.False(t, o.Owns("drive/drive_1"))
	require.False(t, o.Owns(""))
}
