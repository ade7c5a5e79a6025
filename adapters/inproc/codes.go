package inproc

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// CodeCache implements ports.CodeCache in process memory, on a Cache of its
// own: a grant is stored JSON-encoded with Set and redeemed with Take, so it
// expires by the injected clock, counts against the Cache's memory bound
// (a put past it fails with core.KindUnavailable wrapping ErrFull; live codes
// are never evicted) and is handed to exactly one of any number of
// concurrent redemptions, as the Cache's entries are.
//
// IssuedAt reads back equal (time.Time.Equal) to what was put, in UTC.
type CodeCache struct {
	cache *Cache
}

var _ ports.CodeCache = (*CodeCache)(nil)

// NewCodeCache returns an empty code cache that reads time from clock. The
// options configure its Cache (WithMaxBytes).
func NewCodeCache(clock ports.Clock, opts ...CacheOption) *CodeCache {
	return &CodeCache{cache: NewCache(clock, opts...)}
}

// Len returns the number of codes held, expired ones not yet removed
// included. It is meant for tests and metrics.
func (k *CodeCache) Len() int { return k.cache.Len() }

// PutCode implements ports.CodeCache. A grant put under the key of a stored
// one replaces it. A ttl <= 0 is an error.
func (k *CodeCache) PutCode(ctx context.Context, key string, g core.ConnectGrant, ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("inproc codes: put: ttl must be > 0, got %s", ttl)
	}
	// The grant never leaves the process, so core's type is encoded as is:
	// no stored format outlives a change to it.
	b, err := json.Marshal(g)
	if err != nil {
		return core.Internal(fmt.Errorf("inproc codes: encode: %w", err))
	}
	return k.cache.Set(ctx, key, b, ttl)
}

// RedeemCode implements ports.CodeCache with the Cache's Take.
func (k *CodeCache) RedeemCode(ctx context.Context, key string) (core.ConnectGrant, error) {
	b, err := k.cache.Take(ctx, key)
	if core.IsKind(err, core.KindNotFound) {
		return core.ConnectGrant{}, core.NotFound("connect code")
	}
	if err != nil {
		return core.ConnectGrant{}, err
	}
	var g core.ConnectGrant
	if err := json.Unmarshal(b, &g); err != nil {
		return core.ConnectGrant{}, core.Internal(fmt.Errorf("inproc codes: decode: %w", err))
	}
	g.IssuedAt = g.IssuedAt.UTC()
	return g, nil
}
