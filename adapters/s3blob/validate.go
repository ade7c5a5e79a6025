package s3blob

import (
	"github.com/gellhub/gellhub/adapters/internal/blobarg"
	"github.com/gellhub/gellhub/ports"
)

// The argument rules are every adapter's (adapters/internal/blobarg).
const (
	maxPresignTTL      = blobarg.MaxPresignTTL
	defaultContentType = blobarg.DefaultContentType
)

func checkKey(key string) error { return blobarg.CheckKey(key, 0) }

func checkContentType(ct string) error { return blobarg.CheckContentType(ct) }

func checkRange(rng *ports.ByteRange) error { return blobarg.CheckRange(rng) }
