package testkit

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// MemBlobScheme is the scheme of the in-memory store's presigned URLs.
const MemBlobScheme = "memblob"

// BlobStore is an in-memory ports.BlobStore. It keeps the same rules as the
// S3 and localblob adapters (keys, exact presigned PUTs, size limits,
// ranges) and passes the same contract suite. Presigned URLs are
// memblob://upload?t=… and are used through Upload. It is safe for
// concurrent use.
type BlobStore struct {
	clock ports.Clock

	mu      sync.Mutex
	objects map[string]memBlob
	uploads map[string]memUpload // presigned PUTs by token
}

type memBlob struct {
	data []byte // never changed once stored
	info ports.BlobInfo
}

type memUpload struct {
	key         string
	size        int64
	contentType string
	expiresAt   time.Time
}

var (
	_ ports.BlobStore = (*BlobStore)(nil)
	_ ports.Pinger    = (*BlobStore)(nil)
)

// NewBlobStore returns an empty store whose presigned URLs expire by clock.
func NewBlobStore(clock ports.Clock) *BlobStore {
	return &BlobStore{clock: clock, objects: map[string]memBlob{}, uploads: map[string]memUpload{}}
}

// Ping implements ports.Pinger.
func (s *BlobStore) Ping(context.Context) error { return nil }

// PresignPut implements ports.BlobStore.
func (s *BlobStore) PresignPut(_ context.Context, key string, size int64, contentType string, ttl time.Duration) (ports.PresignedPut, error) {
	if err := checkBlobKey(key); err != nil {
		return ports.PresignedPut{}, err
	}
	if size <= 0 {
		return ports.PresignedPut{}, core.Invalid("size", "the size must be positive")
	}
	if err := checkBlobContentType(contentType); err != nil {
		return ports.PresignedPut{}, err
	}
	if ttl < time.Second || ttl > 7*24*time.Hour {
		return ports.PresignedPut{}, core.Invalid("ttl", "the URL's lifetime must be between 1 second and 7 days")
	}
	token := rand.Text()
	now := s.clock.Now()
	expiresAt := now.Add(ttl)
	s.mu.Lock()
	for t, u := range s.uploads { // forget the expired ones
		if now.After(u.expiresAt) {
			delete(s.uploads, t)
		}
	}
	s.uploads[token] = memUpload{key: key, size: size, contentType: contentType, expiresAt: expiresAt}
	s.mu.Unlock()
	return ports.PresignedPut{
		URL:       MemBlobScheme + "://upload?t=" + url.QueryEscape(token),
		Headers:   map[string]string{"Content-Type": contentType},
		ExpiresAt: expiresAt,
	}, nil
}

// Upload performs a PUT of body with contentType to a URL from PresignPut,
// as S3 would: it is refused (core.KindForbidden, nothing stored) when the
// URL is unknown or expired, or when the type or the length differs from
// the presigned ones.
func (s *BlobStore) Upload(rawURL, contentType string, body []byte) error {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != MemBlobScheme || u.Host != "upload" {
		return core.Forbidden("not a presigned upload URL of this store")
	}
	token := u.Query().Get("t")
	s.mu.Lock()
	defer s.mu.Unlock()
	up, ok := s.uploads[token]
	switch {
	case !ok:
		return core.Forbidden("the upload URL is not valid")
	case s.clock.Now().After(up.expiresAt):
		return core.Forbidden("the upload URL has expired")
	case contentType != up.contentType:
		return core.Forbidden("the upload URL was signed for another content type")
	case int64(len(body)) != up.size:
		return core.Forbidden("the upload URL was signed for another content length")
	}
	s.storeLocked(up.key, bytes.Clone(body), contentType)
	return nil
}

// Head implements ports.BlobStore.
func (s *BlobStore) Head(_ context.Context, key string) (ports.BlobInfo, error) {
	if err := checkBlobKey(key); err != nil {
		return ports.BlobInfo{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.objects[key]
	if !ok {
		return ports.BlobInfo{}, core.NotFound("object")
	}
	return b.info, nil
}

// Put implements ports.BlobStore.
func (s *BlobStore) Put(ctx context.Context, key string, r io.Reader, contentType string, maxSize int64) (ports.BlobInfo, error) {
	if err := checkBlobKey(key); err != nil {
		return ports.BlobInfo{}, err
	}
	if contentType == "" {
		contentType = "application/octet-stream"
	} else if err := checkBlobContentType(contentType); err != nil {
		return ports.BlobInfo{}, err
	}
	if maxSize < 0 {
		return ports.BlobInfo{}, core.Invalid("max_size", "the size limit must not be negative")
	}
	var buf bytes.Buffer
	chunk := make([]byte, 32<<10)
	for {
		if err := ctx.Err(); err != nil {
			return ports.BlobInfo{}, fmt.Errorf("testkit blob put: %w", err)
		}
		n, err := r.Read(chunk)
		buf.Write(chunk[:n])
		if int64(buf.Len()) > maxSize {
			return ports.BlobInfo{}, &core.Error{Kind: core.KindTooLarge, Code: "payload_too_large",
				Message: fmt.Sprintf("the upload is over its limit of %d bytes", maxSize)}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return ports.BlobInfo{}, fmt.Errorf("testkit blob put: read the body: %w", err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.storeLocked(key, buf.Bytes(), contentType), nil
}

// storeLocked keeps data (which it owns from now on) under key.
func (s *BlobStore) storeLocked(key string, data []byte, contentType string) ports.BlobInfo {
	sum := sha256.Sum256(data)
	info := ports.BlobInfo{
		Key:         key,
		Size:        int64(len(data)),
		ContentType: contentType,
		ETag:        `"` + hex.EncodeToString(sum[:16]) + `"`,
		ModTime:     s.clock.Now(),
	}
	s.objects[key] = memBlob{data: data, info: info}
	return info
}

// Get implements ports.BlobStore.
func (s *BlobStore) Get(_ context.Context, key string, rng *ports.ByteRange) (io.ReadCloser, ports.BlobInfo, error) {
	if err := checkBlobKey(key); err != nil {
		return nil, ports.BlobInfo{}, err
	}
	s.mu.Lock()
	b, ok := s.objects[key]
	s.mu.Unlock()
	if !ok {
		return nil, ports.BlobInfo{}, core.NotFound("object")
	}
	start, end, err := blobRangeBounds(rng, b.info.Size)
	if err != nil {
		return nil, ports.BlobInfo{}, err
	}
	return io.NopCloser(bytes.NewReader(b.data[start:end])), b.info, nil
}

// Delete implements ports.BlobStore.
func (s *BlobStore) Delete(_ context.Context, key string) error {
	if err := checkBlobKey(key); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.objects, key)
	s.mu.Unlock()
	return nil
}

// blobRangeBounds resolves rng against an object of size bytes into the
// half-open interval [start, end) that it selects, as every adapter must:
// nil is the whole object; an End past the object's end (or < 0) means "to
// the end"; a Start past the end (for an empty object, any range) or a
// range ending before it starts is core.KindInvalid with detail "range".
func blobRangeBounds(rng *ports.ByteRange, size int64) (start, end int64, err error) {
	if rng == nil {
		return 0, size, nil
	}
	if rng.Start < 0 || (rng.End >= 0 && rng.End < rng.Start) {
		return 0, 0, core.Invalid("range", "the range must start at 0 or later and not end before it starts")
	}
	if rng.Start >= size {
		return 0, 0, core.Invalid("range", "the range starts past the end of the object")
	}
	end = size
	if rng.End >= 0 && rng.End < size {
		end = rng.End + 1
	}
	return rng.Start, end, nil
}

// checkBlobKey enforces the keys every BlobStore adapter accepts (see
// adapters/s3blob): non-empty UTF-8 of at most 1024 bytes, slash-separated
// segments that are neither empty, "." nor "..", no backslash, NUL or other
// control character.
func checkBlobKey(key string) error {
	switch {
	case key == "", len(key) > 1024, !utf8.ValidString(key):
		return core.Invalid("key", "the object key must be 1 to 1024 bytes of UTF-8")
	case strings.ContainsFunc(key, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }):
		return core.Invalid("key", "the object key must not contain control characters or backslashes")
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return core.Invalid("key", "the object key must be a relative path without empty, '.' or '..' segments")
		}
	}
	return nil
}

// checkBlobContentType enforces 1 to 255 printable ASCII characters.
func checkBlobContentType(ct string) error {
	if ct == "" || len(ct) > 255 || strings.ContainsFunc(ct, func(r rune) bool { return r < 0x20 || r > 0x7e }) {
		return core.Invalid("content_type", "the content type must be 1 to 255 printable ASCII characters")
	}
	return nil
}
