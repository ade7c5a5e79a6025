package s3blob

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// Limits on the arguments, the same in every BlobStore adapter.
const (
	maxKeyLen         = 1024 // S3's limit, in bytes
	maxContentTypeLen = 255
	// maxPresignTTL is SigV4's longest presigned URL lifetime.
	maxPresignTTL = 7 * 24 * time.Hour
	// defaultContentType is stored when Put is given none.
	defaultContentType = "application/octet-stream"
)

// checkKey enforces the keys every adapter accepts: non-empty UTF-8 of at
// most 1024 bytes, slash-separated segments that are neither empty, "." nor
// "..", with no leading slash, backslash, NUL or other control character.
// S3 would store more, but a key must mean the same thing on every adapter
// (localblob maps it to a path).
func checkKey(key string) error {
	switch {
	case key == "", len(key) > maxKeyLen, !utf8.ValidString(key):
		return core.Invalid("key", "the object key must be 1 to %d bytes of UTF-8", maxKeyLen)
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

// checkContentType enforces a content type that can travel in a header
// unchanged: 1 to 255 printable ASCII characters.
func checkContentType(ct string) error {
	if ct == "" || len(ct) > maxContentTypeLen || strings.ContainsFunc(ct, func(r rune) bool { return r < 0x20 || r > 0x7e }) {
		return core.Invalid("content_type", "the content type must be 1 to %d printable ASCII characters", maxContentTypeLen)
	}
	return nil
}

// checkRange validates rng against nothing but itself (the object's size is
// the server's business): Start ≥ 0 and End either < 0 or ≥ Start.
func checkRange(rng *ports.ByteRange) error {
	if rng != nil && (rng.Start < 0 || (rng.End >= 0 && rng.End < rng.Start)) {
		return core.Invalid("range", "the range must start at 0 or later and not end before it starts")
	}
	return nil
}
