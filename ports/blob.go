package ports

import (
	"context"
	"io"
	"time"
)

// BlobInfo describes a stored object.
type BlobInfo struct {
	Key         string
	Size        int64
	ContentType string
	ETag        string // quoted, as HTTP sends it
	ModTime     time.Time
}

// PresignedPut is a URL that accepts one PUT of an exact size and type.
type PresignedPut struct {
	URL       string
	Headers   map[string]string // to send with the PUT (Content-Type, …)
	ExpiresAt time.Time
}

// ByteRange is an inclusive byte range; End < 0 means "to the end".
type ByteRange struct {
	Start int64
	End   int64
}

// BlobStore keeps file bytes (S3-compatible object storage in production,
// files under the data dir on the embedded default). Keys are opaque
// slash-separated paths the core builds (namespaced per account); bytes
// never pass through the database.
type BlobStore interface {
	// PresignPut returns a URL valid for ttl that accepts exactly one PUT
	// of size bytes with contentType under key: a body of another length
	// or type is refused by the storage. KindInvalid for a bad key, size or
	// ttl.
	PresignPut(ctx context.Context, key string, size int64, contentType string, ttl time.Duration) (PresignedPut, error)

	// Head describes the object; KindNotFound when it does not exist (or
	// is not visible yet).
	Head(ctx context.Context, key string) (BlobInfo, error)

	// Put stores r (of unknown length) under key as it arrives, with
	// bounded memory whatever the size. When more than maxSize bytes
	// arrive, the upload is aborted, nothing is stored and the error is
	// KindTooLarge. A reader error aborts too and is returned wrapped.
	Put(ctx context.Context, key string, r io.Reader, contentType string, maxSize int64) (BlobInfo, error)

	// Get opens the object, or the part rng selects (nil: all). The
	// returned info describes the whole object. KindNotFound when absent;
	// KindInvalid (detail "range") when rng starts past the end.
	Get(ctx context.Context, key string, rng *ByteRange) (io.ReadCloser, BlobInfo, error)

	// Delete removes the object; deleting an absent one is not an error.
	Delete(ctx context.Context, key string) error
}
