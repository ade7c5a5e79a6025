package localblob

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
	maxSegmentLen     = 255  // a file name's limit, in bytes
	maxContentTypeLen = 255
	// maxPresignTTL is the longest presigned URL lifetime (SigV4's, on S3).
	maxPresignTTL = 7 * 24 * time.Hour
	// defaultContentType is stored when Put is given none.
	defaultContentType = "application/octet-stream"
)

// checkKey enforces the keys every adapter accepts: non-empty UTF-8 of at
// most 1024 bytes, slash-separated segments that are neither empty, "." nor
// "..", with no leading slash, backslash, NUL or other control character.
// These are the S3 adapter's rules; here a segment, being a file name, is
// also at most 255 bytes.
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
		if len(seg) > maxSegmentLen {
			return core.Invalid("key", "each part of the object key must be at most %d bytes", maxSegmentLen)
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

// rangeBounds resolves rng against an object of size bytes into the
// half-open interval [start, end) it selects: nil is all of it; an End past
// the end (or < 0) means "to the end"; a Start past the end (for an empty
// object, any range) or an End before Start is core.KindInvalid "range".
func rangeBounds(rng *ports.ByteRange, size int64) (start, end int64, err error) {
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
