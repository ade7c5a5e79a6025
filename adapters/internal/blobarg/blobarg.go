// Package blobarg holds what every ports.BlobStore adapter checks and does
// the same way: the rules for keys, content types and ranges, and the
// reader that enforces an upload's size limit while it streams. One copy,
// so that a key means the same thing on S3, on local disk and in memory.
package blobarg

import (
	"context"
	"errors"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// Limits shared by the adapters.
const (
	MaxKeyLen         = 1024 // S3's limit, in bytes
	MaxContentTypeLen = 255
	// MaxPresignTTL is SigV4's longest presigned URL lifetime.
	MaxPresignTTL = 7 * 24 * time.Hour
	// DefaultContentType is stored when Put is given none.
	DefaultContentType = "application/octet-stream"
)

// CheckKey enforces the keys every adapter accepts: non-empty UTF-8 of at
// most 1024 bytes, slash-separated segments that are neither empty, "." nor
// "..", with no leading slash, backslash, NUL or other control character,
// and (when maxSegment > 0) no segment longer than maxSegment bytes.
func CheckKey(key string, maxSegment int) error {
	switch {
	case key == "", len(key) > MaxKeyLen, !utf8.ValidString(key):
		return core.Invalid("key", "the object key must be 1 to %d bytes of UTF-8", MaxKeyLen)
	case strings.ContainsFunc(key, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }):
		return core.Invalid("key", "the object key must not contain control characters or backslashes")
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return core.Invalid("key", "the object key must be a relative path without empty, '.' or '..' segments")
		}
		if maxSegment > 0 && len(seg) > maxSegment {
			return core.Invalid("key", "each part of the object key must be at most %d bytes", maxSegment)
		}
	}
	return nil
}

// CheckContentType enforces a content type that can travel in a header
// unchanged: 1 to 255 printable ASCII characters.
func CheckContentType(ct string) error {
	if ct == "" || len(ct) > MaxContentTypeLen || strings.ContainsFunc(ct, func(r rune) bool { return r < 0x20 || r > 0x7e }) {
		return core.Invalid("content_type", "the content type must be 1 to %d printable ASCII characters", MaxContentTypeLen)
	}
	return nil
}

// CheckRange validates rng against nothing but itself (the object's size
// is the storage's business): Start ≥ 0 and End either < 0 or ≥ Start.
func CheckRange(rng *ports.ByteRange) error {
	if rng != nil && (rng.Start < 0 || (rng.End >= 0 && rng.End < rng.Start)) {
		return core.Invalid("range", "the range must start at 0 or later and not end before it starts")
	}
	return nil
}

// ErrTooLarge stops an upload whose body went past its limit.
var ErrTooLarge = errors.New("blob: body over the size limit")

// LimitedReader counts what it reads from R and fails with ErrTooLarge as
// soon as more than Limit bytes arrive (it asks R for one byte past the
// limit at most: that byte is enough to know). It stops when Ctx (if set)
// is done, and remembers R's own error. One goroutine reads it.
type LimitedReader struct {
	Ctx      context.Context
	R        io.Reader
	Limit    int64
	N        int64 // bytes read so far
	TooLarge bool  // more than Limit bytes arrived
	ReadErr  error // R's error (or Ctx's), other than io.EOF
}

// Read implements io.Reader.
func (l *LimitedReader) Read(p []byte) (int, error) {
	if l.TooLarge {
		return 0, ErrTooLarge
	}
	if l.Ctx != nil {
		if err := l.Ctx.Err(); err != nil {
			l.ReadErr = err
			return 0, err
		}
	}
	if room := l.Limit - l.N; int64(len(p)) > room+1 {
		p = p[:room+1]
	}
	n, err := l.R.Read(p)
	l.N += int64(n)
	if l.N > l.Limit {
		l.TooLarge = true
		return 0, ErrTooLarge
	}
	if err != nil && err != io.EOF {
		l.ReadErr = err
	}
	return n, err
}
