package testkit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// BlobUnderTest is one ports.BlobStore adapter as RunBlobStoreSuite
// exercises it.
type BlobUnderTest struct {
	// Store is empty when open returns it.
	Store ports.BlobStore
	// Put performs a presigned PUT as a client would: body with the
	// Content-Type contentType and a Content-Length of len(body) (HTTP for
	// S3 and localblob, BlobStore.Upload in memory). It returns the status:
	// 2xx when the store accepted the upload.
	Put func(t *testing.T, presigned ports.PresignedPut, contentType string, body []byte) (status int)
	// Expire makes d pass for the store's presigned URLs: the fake clock
	// of the in-process stores, or time.Sleep for a real server (then set
	// ExpiryTTL short).
	Expire func(d time.Duration)
	// ExpiryTTL is the lifetime the expiry cases presign with (default a
	// minute); they Expire a second past it, and a second short of it.
	ExpiryTTL time.Duration
}

// BlobSuiteBigSize is the size of the suite's multi-part uploads: an S3
// adapter under test should use a part size well under it (5 MiB, S3's
// minimum) so that Put goes through several parts.
const BlobSuiteBigSize = 20 << 20

// RunBlobStoreSuite is the contract of ports.BlobStore: every adapter must
// pass it. open is called once per sub-test and returns an empty store,
// independent of every other one it returns (a fresh bucket, directory or
// memory store), released in t.Cleanup. Sub-tests run in parallel.
//
// Beyond the port's doc comments the suite checks the rules every adapter
// shares: keys are slash-separated relative paths (spaces and any Unicode
// welcome; empty, ".", ".." segments, backslashes and control characters
// refused with KindInvalid detail "key"); presigned sizes are positive; an
// empty content type on Put stores application/octet-stream; a range's end
// past the object's end is cut to the end; ETags are quoted; a failed Put
// leaves the previous object in place.
func RunBlobStoreSuite(t *testing.T, open func(t *testing.T) BlobUnderTest) {
	t.Helper()
	methods := []struct {
		name  string
		cases []blobCase
	}{
		{"PresignPut", blobPresignCases},
		{"Head", blobHeadCases},
		{"Put", blobPutCases},
		{"Get", blobGetCases},
		{"Delete", blobDeleteCases},
		{"Keys", blobKeyCases},
	}
	for _, m := range methods {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			for _, c := range m.cases {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					c.test(t, &blobFixture{t: t, BlobUnderTest: open(t), ctx: context.Background()})
				})
			}
		})
	}
}

// blobCase is one sub-test of RunBlobStoreSuite.
type blobCase struct {
	name string
	test func(t *testing.T, f *blobFixture)
}

// blobFixture is one sub-test's store with helpers.
type blobFixture struct {
	t *testing.T
	BlobUnderTest
	ctx context.Context
}

var blobPresignCases = []blobCase{
	{"exact_put_is_stored", func(t *testing.T, f *blobFixture) {
		body := []byte("a photo's bytes, exactly")
		p := f.presign("studio/collection/photo.jpg", int64(len(body)), "image/jpeg", 15*time.Minute)
		if p.URL == "" || p.ExpiresAt.IsZero() {
			t.Fatalf("PresignPut = %+v, want a URL and an expiry", p)
		}
		if got := p.Headers["Content-Type"]; got != "image/jpeg" {
			t.Errorf("PresignPut headers[Content-Type] = %q, want %q", got, "image/jpeg")
		}
		if st := f.Put(t, p, "image/jpeg", body); st < 200 || st > 299 {
			t.Fatalf("presigned PUT of the exact size and type: status %d, want 2xx", st)
		}
		info := f.head("studio/collection/photo.jpg")
		if info.Size != int64(len(body)) || info.ContentType != "image/jpeg" {
			t.Errorf("Head after the PUT = size %d type %q, want %d %q", info.Size, info.ContentType, len(body), "image/jpeg")
		}
		wantETag(t, info.ETag)
		f.wantContent("studio/collection/photo.jpg", body)
	}},
	{"other_length_is_refused", func(t *testing.T, f *blobFixture) {
		body := []byte("0123456789")
		p := f.presign("k/len.bin", int64(len(body)), "application/octet-stream", 15*time.Minute)
		for _, other := range [][]byte{body[:9], append(bytes.Clone(body), 'x'), {}} {
			if st := f.Put(t, p, "application/octet-stream", other); st >= 200 && st <= 299 {
				t.Errorf("presigned PUT of %d bytes (signed for %d): status %d, want a refusal", len(other), len(body), st)
			}
		}
		f.wantNotFound("k/len.bin")
	}},
	{"other_type_is_refused", func(t *testing.T, f *blobFixture) {
		body := []byte("not really a png")
		p := f.presign("k/type.jpg", int64(len(body)), "image/jpeg", 15*time.Minute)
		for _, ct := range []string{"image/png", "image/jpeg; charset=binary", "IMAGE/JPEG"} {
			if st := f.Put(t, p, ct, body); st >= 200 && st <= 299 {
				t.Errorf("presigned PUT with Content-Type %q (signed for image/jpeg): status %d, want a refusal", ct, st)
			}
		}
		f.wantNotFound("k/type.jpg")
	}},
	{"expired_url_is_refused", func(t *testing.T, f *blobFixture) {
		body := []byte("late")
		ttl := f.expiryTTL()
		p := f.presign("k/late.txt", int64(len(body)), "text/plain", ttl)
		f.Expire(ttl + 1100*time.Millisecond) // S3's clock reads whole seconds
		if st := f.Put(t, p, "text/plain", body); st >= 200 && st <= 299 {
			t.Errorf("presigned PUT after the URL expired: status %d, want a refusal", st)
		}
		f.wantNotFound("k/late.txt")
	}},
	{"url_is_valid_until_it_expires", func(t *testing.T, f *blobFixture) {
		body := []byte("on time")
		ttl := f.expiryTTL()
		p := f.presign("k/ontime.txt", int64(len(body)), "text/plain", ttl)
		f.Expire(ttl - time.Second)
		if st := f.Put(t, p, "text/plain", body); st < 200 || st > 299 {
			t.Fatalf("presigned PUT just before expiry: status %d, want 2xx", st)
		}
		f.wantContent("k/ontime.txt", body)
	}},
	{"bad_arguments_are_invalid", func(t *testing.T, f *blobFixture) {
		for _, c := range []struct {
			key    string
			size   int64
			ct     string
			ttl    time.Duration
			detail string
		}{
			{"k", 0, "text/plain", time.Minute, "size"},
			{"k", -1, "text/plain", time.Minute, "size"},
			{"k", 10, "", time.Minute, "content_type"},
			{"k", 10, "text/plain\r\nX-Evil: 1", time.Minute, "content_type"},
			{"k", 10, "text/plain", 0, "ttl"},
			{"k", 10, "text/plain", -time.Minute, "ttl"},
			{"k", 10, "text/plain", 8 * 24 * time.Hour, "ttl"},
			{"../k", 10, "text/plain", time.Minute, "key"},
		} {
			_, err := f.Store.PresignPut(f.ctx, c.key, c.size, c.ct, c.ttl)
			wantBlobErr(t, fmt.Sprintf("PresignPut(%q, %d, %q, %s)", c.key, c.size, c.ct, c.ttl), err, core.KindInvalid, c.detail)
		}
	}},
	{"refused_put_keeps_the_previous_object", func(t *testing.T, f *blobFixture) {
		old := f.put("k/keep.txt", []byte("old content"), "text/plain", 1<<20)
		p := f.presign("k/keep.txt", 5, "text/plain", 15*time.Minute)
		if st := f.Put(t, p, "text/plain", []byte("too long for the URL")); st >= 200 && st <= 299 {
			t.Fatalf("presigned PUT of another length: status %d, want a refusal", st)
		}
		if got := f.head("k/keep.txt"); got.ETag != old.ETag || got.Size != old.Size {
			t.Errorf("Head after a refused PUT = %+v, want the previous object %+v", got, old)
		}
	}},
}

var blobHeadCases = []blobCase{
	{"missing_is_not_found", func(t *testing.T, f *blobFixture) {
		f.wantNotFound("no/such/object")
	}},
	{"describes_the_object", func(t *testing.T, f *blobFixture) {
		put := f.put("k/describe.txt", []byte("twelve bytes"), "text/plain; charset=utf-8", 100)
		got := f.head("k/describe.txt")
		if got.Key != "k/describe.txt" || got.Size != 12 || got.ContentType != "text/plain; charset=utf-8" || got.ETag != put.ETag {
			t.Errorf("Head = %+v, want key, size 12, the type and Put's ETag %s", got, put.ETag)
		}
		if got.ModTime.IsZero() {
			t.Errorf("Head ModTime is zero")
		}
	}},
	{"bad_keys_are_invalid", func(t *testing.T, f *blobFixture) {
		for _, key := range blobBadKeys {
			_, err := f.Store.Head(f.ctx, key)
			wantBlobErr(t, fmt.Sprintf("Head(%q)", key), err, core.KindInvalid, "key")
		}
	}},
}

var blobPutCases = []blobCase{
	{"small_body_of_unknown_length", func(t *testing.T, f *blobFixture) {
		body := []byte("hello, streamed world")
		info := f.put("k/small.txt", body, "text/plain", 1<<20)
		if info.Key != "k/small.txt" || info.Size != int64(len(body)) || info.ContentType != "text/plain" {
			t.Errorf("Put = %+v, want key, size %d, type text/plain", info, len(body))
		}
		wantETag(t, info.ETag)
		got := f.head("k/small.txt")
		if got.Size != info.Size || got.ContentType != info.ContentType || got.ETag != info.ETag {
			t.Errorf("Head = %+v, want what Put said: %+v", got, info)
		}
		f.wantContent("k/small.txt", body)
	}},
	{"empty_body", func(t *testing.T, f *blobFixture) {
		info := f.put("k/empty", nil, "text/plain", 10)
		if info.Size != 0 {
			t.Errorf("Put of nothing: size %d, want 0", info.Size)
		}
		if got := f.head("k/empty"); got.Size != 0 {
			t.Errorf("Head of an empty object: size %d, want 0", got.Size)
		}
		f.wantContent("k/empty", nil)
	}},
	{"empty_content_type_is_octet_stream", func(t *testing.T, f *blobFixture) {
		info := f.put("k/untyped", []byte("?"), "", 10)
		if info.ContentType != "application/octet-stream" {
			t.Errorf("Put with no type: type %q, want application/octet-stream", info.ContentType)
		}
		if got := f.head("k/untyped"); got.ContentType != "application/octet-stream" {
			t.Errorf("Head of an object put with no type: %q, want application/octet-stream", got.ContentType)
		}
	}},
	{"multi_part_body_of_unknown_length", func(t *testing.T, f *blobFixture) {
		want := blobStreamSum(7, BlobSuiteBigSize)
		info, err := f.Store.Put(f.ctx, "k/big.bin", blobStream(7, BlobSuiteBigSize), "application/octet-stream", BlobSuiteBigSize+1)
		if err != nil {
			t.Fatalf("Put of %d bytes of unknown length: %v", BlobSuiteBigSize, err)
		}
		if info.Size != BlobSuiteBigSize {
			t.Errorf("Put size = %d, want %d", info.Size, BlobSuiteBigSize)
		}
		if got := f.head("k/big.bin"); got.Size != BlobSuiteBigSize || got.ETag != info.ETag {
			t.Errorf("Head = %+v, want size %d and Put's ETag %s", got, BlobSuiteBigSize, info.ETag)
		}
		rc, _, err := f.Store.Get(f.ctx, "k/big.bin", nil)
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		defer rc.Close()
		h := sha256.New()
		if _, err := io.Copy(h, rc); err != nil {
			t.Fatalf("read the object: %v", err)
		}
		if !bytes.Equal(h.Sum(nil), want) {
			t.Errorf("the object read back differs from what was put")
		}
	}},
	{"exactly_max_size_is_stored", func(t *testing.T, f *blobFixture) {
		info := f.put("k/exact", []byte("0123456789"), "text/plain", 10)
		if info.Size != 10 {
			t.Errorf("Put of exactly maxSize bytes: size %d, want 10", info.Size)
		}
	}},
	{"over_max_size_is_too_large_and_not_stored", func(t *testing.T, f *blobFixture) {
		_, err := f.Store.Put(f.ctx, "k/over", onlyReader{strings.NewReader("0123456789x")}, "text/plain", 10)
		wantBlobErr(t, "Put of maxSize+1 bytes", err, core.KindTooLarge, "")
		f.wantNotFound("k/over")
	}},
	{"over_max_size_mid_upload_is_too_large_and_not_stored", func(t *testing.T, f *blobFixture) {
		const limit = BlobSuiteBigSize / 2
		_, err := f.Store.Put(f.ctx, "k/overbig", blobStream(3, BlobSuiteBigSize), "application/octet-stream", limit)
		wantBlobErr(t, fmt.Sprintf("Put of %d bytes with maxSize %d", BlobSuiteBigSize, limit), err, core.KindTooLarge, "")
		f.wantNotFound("k/overbig")
	}},
	{"too_large_keeps_the_previous_object", func(t *testing.T, f *blobFixture) {
		old := f.put("k/keep", []byte("v1"), "text/plain", 10)
		_, err := f.Store.Put(f.ctx, "k/keep", onlyReader{strings.NewReader("far too long")}, "text/plain", 10)
		wantBlobErr(t, "Put over maxSize", err, core.KindTooLarge, "")
		if got := f.head("k/keep"); got.ETag != old.ETag || got.Size != 2 {
			t.Errorf("Head after a too-large Put = %+v, want the previous object %+v", got, old)
		}
		f.wantContent("k/keep", []byte("v1"))
	}},
	{"reader_error_aborts_and_is_returned", func(t *testing.T, f *blobFixture) {
		cause := core.E(core.KindQuotaExceeded, "over quota")
		r := io.MultiReader(blobStream(5, 6<<20), errReader{cause})
		_, err := f.Store.Put(f.ctx, "k/broken", r, "application/octet-stream", BlobSuiteBigSize)
		if !errors.Is(err, cause) || !core.IsKind(err, core.KindQuotaExceeded) {
			t.Fatalf("Put whose reader fails after 6 MiB: %v (kind %s), want the reader's error", err, core.ErrorKind(err))
		}
		f.wantNotFound("k/broken")
	}},
	{"overwrite_replaces", func(t *testing.T, f *blobFixture) {
		v1 := f.put("k/over.txt", []byte("version one"), "text/plain", 100)
		v2 := f.put("k/over.txt", []byte("second version!"), "text/markdown", 100)
		if v1.ETag == v2.ETag {
			t.Errorf("two different contents have the same ETag %s", v1.ETag)
		}
		got := f.head("k/over.txt")
		if got.Size != 15 || got.ContentType != "text/markdown" || got.ETag != v2.ETag {
			t.Errorf("Head after an overwrite = %+v, want the second version %+v", got, v2)
		}
		f.wantContent("k/over.txt", []byte("second version!"))
	}},
	{"bad_arguments_are_invalid", func(t *testing.T, f *blobFixture) {
		for _, key := range blobBadKeys {
			_, err := f.Store.Put(f.ctx, key, strings.NewReader("x"), "text/plain", 10)
			wantBlobErr(t, fmt.Sprintf("Put(%q)", key), err, core.KindInvalid, "key")
		}
		_, err := f.Store.Put(f.ctx, "k/neg", strings.NewReader("x"), "text/plain", -1)
		wantBlobErr(t, "Put with a negative maxSize", err, core.KindInvalid, "max_size")
		_, err = f.Store.Put(f.ctx, "k/ct", strings.NewReader("x"), "text/plain\nX: y", 10)
		wantBlobErr(t, "Put with a newline in the type", err, core.KindInvalid, "content_type")
	}},
	{"concurrent_puts_to_different_keys", func(t *testing.T, f *blobFixture) {
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				_, errs[i] = f.Store.Put(f.ctx, fmt.Sprintf("k/concurrent/%d", i), blobStream(uint64(100+i), 256<<10+i), "application/octet-stream", 1<<20)
			})
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("concurrent Put %d: %v", i, errs[i])
			}
			key := fmt.Sprintf("k/concurrent/%d", i)
			if got := f.head(key); got.Size != int64(256<<10+i) {
				t.Errorf("Head(%s) size %d, want %d", key, got.Size, 256<<10+i)
			}
			f.wantContentSum(key, blobStreamSum(uint64(100+i), 256<<10+i))
		}
	}},
}

var blobGetCases = []blobCase{
	{"whole_object", func(t *testing.T, f *blobFixture) {
		body := blobBytes(100)
		put := f.put("k/whole", body, "application/x-test", 1000)
		rc, info, err := f.Store.Get(f.ctx, "k/whole", nil)
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		got := readAllClose(t, rc)
		if !bytes.Equal(got, body) {
			t.Errorf("Get = %d bytes, want the %d put", len(got), len(body))
		}
		if info.Size != 100 || info.ContentType != "application/x-test" || info.ETag != put.ETag || info.Key != "k/whole" {
			t.Errorf("Get info = %+v, want size 100, the type and Put's ETag %s", info, put.ETag)
		}
	}},
	{"ranges", func(t *testing.T, f *blobFixture) {
		body := blobBytes(100)
		f.put("k/ranged", body, "application/x-test", 1000)
		for _, c := range []struct {
			name       string
			rng        ports.ByteRange
			start, end int // body[start:end]
		}{
			{"first_byte", ports.ByteRange{Start: 0, End: 0}, 0, 1},
			{"middle", ports.ByteRange{Start: 10, End: 19}, 10, 20},
			{"suffix_to_end", ports.ByteRange{Start: 90, End: -1}, 90, 100},
			{"last_byte", ports.ByteRange{Start: 99, End: 99}, 99, 100},
			{"end_past_the_end", ports.ByteRange{Start: 95, End: 1000}, 95, 100},
			{"all", ports.ByteRange{Start: 0, End: -1}, 0, 100},
		} {
			rc, info, err := f.Store.Get(f.ctx, "k/ranged", &c.rng)
			if err != nil {
				t.Errorf("%s: Get(%+v): %v", c.name, c.rng, err)
				continue
			}
			if got := readAllClose(t, rc); !bytes.Equal(got, body[c.start:c.end]) {
				t.Errorf("%s: Get(%+v) = %d bytes %v, want body[%d:%d]", c.name, c.rng, len(got), got, c.start, c.end)
			}
			if info.Size != 100 || info.ContentType != "application/x-test" {
				t.Errorf("%s: Get(%+v) info = %+v, want the whole object's (size 100)", c.name, c.rng, info)
			}
		}
	}},
	{"range_past_the_end_is_invalid", func(t *testing.T, f *blobFixture) {
		f.put("k/short", blobBytes(100), "application/x-test", 1000)
		for _, rng := range []ports.ByteRange{{Start: 100, End: -1}, {Start: 200, End: 300}, {Start: 5, End: 3}, {Start: -1, End: 5}} {
			rc, _, err := f.Store.Get(f.ctx, "k/short", &rng)
			if rc != nil {
				_ = rc.Close()
			}
			wantBlobErr(t, fmt.Sprintf("Get(%+v) of 100 bytes", rng), err, core.KindInvalid, "range")
		}
	}},
	{"empty_object", func(t *testing.T, f *blobFixture) {
		f.put("k/empty", nil, "text/plain", 10)
		f.wantContent("k/empty", nil)
		rc, _, err := f.Store.Get(f.ctx, "k/empty", &ports.ByteRange{Start: 0, End: -1})
		if rc != nil {
			_ = rc.Close()
		}
		wantBlobErr(t, "Get of a range of an empty object", err, core.KindInvalid, "range")
	}},
	{"missing_is_not_found", func(t *testing.T, f *blobFixture) {
		for _, rng := range []*ports.ByteRange{nil, {Start: 0, End: 10}} {
			rc, _, err := f.Store.Get(f.ctx, "no/such/object", rng)
			if rc != nil {
				_ = rc.Close()
			}
			wantBlobErr(t, "Get of a missing object", err, core.KindNotFound, "")
		}
	}},
	{"bad_keys_are_invalid", func(t *testing.T, f *blobFixture) {
		for _, key := range blobBadKeys {
			rc, _, err := f.Store.Get(f.ctx, key, nil)
			if rc != nil {
				_ = rc.Close()
			}
			wantBlobErr(t, fmt.Sprintf("Get(%q)", key), err, core.KindInvalid, "key")
		}
	}},
}

var blobDeleteCases = []blobCase{
	{"is_idempotent", func(t *testing.T, f *blobFixture) {
		f.put("k/gone", []byte("bye"), "text/plain", 10)
		for i := range 2 {
			if err := f.Store.Delete(f.ctx, "k/gone"); err != nil {
				t.Fatalf("Delete #%d: %v", i+1, err)
			}
			f.wantNotFound("k/gone")
		}
		if err := f.Store.Delete(f.ctx, "never/there"); err != nil {
			t.Errorf("Delete of an object that never existed: %v", err)
		}
	}},
	{"leaves_other_objects", func(t *testing.T, f *blobFixture) {
		f.put("k/a", []byte("a"), "text/plain", 10)
		f.put("k/ab", []byte("ab"), "text/plain", 10)
		f.put("k/a.txt", []byte("a.txt"), "text/plain", 10)
		if err := f.Store.Delete(f.ctx, "k/a"); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		f.wantNotFound("k/a")
		f.wantContent("k/ab", []byte("ab"))
		f.wantContent("k/a.txt", []byte("a.txt"))
	}},
	{"then_put_again", func(t *testing.T, f *blobFixture) {
		f.put("k/again", []byte("one"), "text/plain", 10)
		if err := f.Store.Delete(f.ctx, "k/again"); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		f.put("k/again", []byte("two"), "text/csv", 10)
		if got := f.head("k/again"); got.ContentType != "text/csv" {
			t.Errorf("Head after delete and put = %+v, want text/csv", got)
		}
		f.wantContent("k/again", []byte("two"))
	}},
	{"bad_keys_are_invalid", func(t *testing.T, f *blobFixture) {
		for _, key := range blobBadKeys {
			wantBlobErr(t, fmt.Sprintf("Delete(%q)", key), f.Store.Delete(f.ctx, key), core.KindInvalid, "key")
		}
	}},
}

// blobOddKeys are valid keys that a careless adapter would mangle.
var blobOddKeys = []string{
	"with space/file name (1).jpg",
	"unicode/Café – ünïcødé/日本語のファイル.png",
	"emoji/📷 holiday/🌅.heic",
	"symbols/a+b=c&d?e#f%20g;h,i@j!k'l$m[n]o{p}~q.txt",
	"dots/.hidden/..double/name.with.dots.",
	"deep/a/b/c/d/e/f/g/h/i/j.bin",
}

// blobBadKeys are keys every adapter refuses with KindInvalid detail "key".
var blobBadKeys = []string{
	"",
	"/absolute/path",
	"../escape",
	"a/../../escape",
	"a/./b",
	"a//b",
	"trailing/",
	".",
	"..",
	`back\slash`,
	"nul\x00byte",
	"new\nline",
	"bad utf8 \xff",
	strings.Repeat("k", 1025),
}

var blobKeyCases = []blobCase{
	{"odd_keys_round_trip_through_put", func(t *testing.T, f *blobFixture) {
		for i, key := range blobOddKeys {
			body := fmt.Appendf(nil, "content of key %d", i)
			f.put(key, body, "text/plain", 100)
			if got := f.head(key); got.Key != key || got.Size != int64(len(body)) {
				t.Errorf("Head(%q) = %+v, want that key and size %d", key, got, len(body))
			}
			f.wantContent(key, body)
		}
		for _, key := range blobOddKeys {
			if err := f.Store.Delete(f.ctx, key); err != nil {
				t.Errorf("Delete(%q): %v", key, err)
			}
			f.wantNotFound(key)
		}
	}},
	{"odd_keys_round_trip_through_presign", func(t *testing.T, f *blobFixture) {
		for i, key := range blobOddKeys {
			body := fmt.Appendf(nil, "presigned content of key %d", i)
			p := f.presign(key, int64(len(body)), "image/jpeg", 15*time.Minute)
			if st := f.Put(t, p, "image/jpeg", body); st < 200 || st > 299 {
				t.Errorf("presigned PUT to %q: status %d, want 2xx", key, st)
				continue
			}
			f.wantContent(key, body)
		}
	}},
	{"long_key_is_accepted", func(t *testing.T, f *blobFixture) {
		key := strings.Repeat("d", 200) + "/" + strings.Repeat("f", 200)
		f.put(key, []byte("long"), "text/plain", 10)
		f.wantContent(key, []byte("long"))
	}},
}

func (f *blobFixture) presign(key string, size int64, contentType string, ttl time.Duration) ports.PresignedPut {
	f.t.Helper()
	p, err := f.Store.PresignPut(f.ctx, key, size, contentType, ttl)
	if err != nil {
		f.t.Fatalf("PresignPut(%q, %d, %q, %s): %v", key, size, contentType, ttl, err)
	}
	return p
}

// put stores body through a reader that hides its length.
func (f *blobFixture) put(key string, body []byte, contentType string, maxSize int64) ports.BlobInfo {
	f.t.Helper()
	info, err := f.Store.Put(f.ctx, key, onlyReader{bytes.NewReader(body)}, contentType, maxSize)
	if err != nil {
		f.t.Fatalf("Put(%q, %d bytes): %v", key, len(body), err)
	}
	return info
}

func (f *blobFixture) head(key string) ports.BlobInfo {
	f.t.Helper()
	info, err := f.Store.Head(f.ctx, key)
	if err != nil {
		f.t.Fatalf("Head(%q): %v", key, err)
	}
	return info
}

func (f *blobFixture) wantNotFound(key string) {
	f.t.Helper()
	_, err := f.Store.Head(f.ctx, key)
	wantBlobErr(f.t, fmt.Sprintf("Head(%q)", key), err, core.KindNotFound, "")
}

func (f *blobFixture) wantContent(key string, want []byte) {
	f.t.Helper()
	rc, info, err := f.Store.Get(f.ctx, key, nil)
	if err != nil {
		f.t.Fatalf("Get(%q): %v", key, err)
	}
	got := readAllClose(f.t, rc)
	if !bytes.Equal(got, want) {
		f.t.Errorf("Get(%q) = %q, want %q", key, clip(got), clip(want))
	}
	if info.Size != int64(len(want)) {
		f.t.Errorf("Get(%q) info size %d, want %d", key, info.Size, len(want))
	}
}

func (f *blobFixture) wantContentSum(key string, want []byte) {
	f.t.Helper()
	rc, _, err := f.Store.Get(f.ctx, key, nil)
	if err != nil {
		f.t.Fatalf("Get(%q): %v", key, err)
	}
	sum := sha256.Sum256(readAllClose(f.t, rc))
	if !bytes.Equal(sum[:], want) {
		f.t.Errorf("Get(%q): the content differs from what was put", key)
	}
}

func readAllClose(t *testing.T, rc io.ReadCloser) []byte {
	t.Helper()
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read the object: %v", err)
	}
	return b
}

// wantBlobErr fails unless err is of kind k (and, when detail is set, has
// that detail).
func wantBlobErr(t *testing.T, what string, err error, k core.Kind, detail string) {
	t.Helper()
	if !core.IsKind(err, k) {
		t.Errorf("%s: error %v (kind %s), want kind %s", what, err, core.ErrorKind(err), k)
		return
	}
	if e, _ := core.AsError(err); detail != "" && e.Detail != detail {
		t.Errorf("%s: error %v has detail %q, want %q", what, err, e.Detail, detail)
	}
}

func wantETag(t *testing.T, etag string) {
	t.Helper()
	if len(etag) < 3 || !strings.HasPrefix(etag, `"`) || !strings.HasSuffix(etag, `"`) {
		t.Errorf("ETag %q, want a quoted value", etag)
	}
}

func clip(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "…"
	}
	return string(b)
}

// onlyReader hides every method of its reader but Read (no Seek, Len,
// WriteTo): the store cannot learn the length up front.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// errReader fails every Read with err.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// blobStream returns n pseudo-random bytes from seed, as a plain reader.
func blobStream(seed uint64, n int) io.Reader {
	var key [32]byte
	key[0], key[1] = byte(seed), byte(seed>>8)
	return onlyReader{io.LimitReader(rand.NewChaCha8(key), int64(n))}
}

// blobStreamSum is the SHA-256 of blobStream(seed, n).
func blobStreamSum(seed uint64, n int) []byte {
	h := sha256.New()
	if _, err := io.Copy(h, blobStream(seed, n)); err != nil {
		panic(err) // reading memory cannot fail
	}
	return h.Sum(nil)
}

// blobBytes returns n distinct-ish bytes.
func blobBytes(n int) []byte {
	b, _ := io.ReadAll(blobStream(uint64(n), n))
	return b
}

// expiryTTL is the lifetime the expiry cases presign with.
func (f *blobFixture) expiryTTL() time.Duration {
	if f.ExpiryTTL > 0 {
		return f.ExpiryTTL
	}
	return time.Minute
}
