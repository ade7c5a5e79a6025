package localblob

import (
	"github.com/gellhub/gellhub/adapters/internal/blobarg"
	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// The argument rules are every adapter's (adapters/internal/blobarg); here
// a key's segment, being a file name, is also at most 255 bytes.
const (
	maxSegmentLen      = 255
	maxPresignTTL      = blobarg.MaxPresignTTL
	defaultContentType = blobarg.DefaultContentType
)

func checkKey(key string) error { return blobarg.CheckKey(key, maxSegmentLen) }

func checkContentType(ct string) error { return blobarg.CheckContentType(ct) }

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
