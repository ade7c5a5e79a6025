package inproc

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// DefaultMaxBytes is a Cache's default memory bound: 64 MiB of keys, values
// and per-entry overhead.
const DefaultMaxBytes = 64 << 20

// entryOverhead approximates what one entry costs beyond its key and value
// bytes (map slot, string and slice headers, expiry time).
const entryOverhead = 64

// fullSweepInterval is how often, at most, a full cache or limiter sweeps
// for expired entries on its own account (a refused write does not pay a
// whole sweep each time).
const fullSweepInterval = time.Second

// ErrFull is the cause of the KindUnavailable error a Cache or RateLimiter
// returns when its memory bound is reached by live entries.
var ErrFull = errors.New("inproc: memory bound reached")

// Cache implements ports.Cache in process memory.
//
// Entries expire by the injected clock: an entry set at t with ttl d is
// visible while now < t+d. Values are copied in and out, so callers may
// reuse their slices.
//
// Memory is bounded by MaxBytes (DefaultMaxBytes unless WithMaxBytes says
// otherwise), counted as len(key) + len(value) + about 64 bytes per entry.
// Expired entries are removed when touched and by a sweep of the whole map
// run once the number of writes since the last sweep reaches the number of
// entries, so a sweep costs O(1) per write amortised and expired entries
// never outnumber the writes of one sweep period. A write that would go past
// the bound sweeps first (at most once per second of clock time, or once
// per len/8 writes) and, if live entries still fill the bound, fails with
// core.KindUnavailable wrapping ErrFull: live entries are never evicted, so
// a SetNX guard or a one-time code is never silently lost.
type Cache struct {
	clock    ports.Clock
	maxBytes int64

	mu        sync.Mutex
	items     map[string]cacheEntry
	bytes     int64 // accounted size of items
	writes    int   // writes since the last sweep
	lastSweep time.Time
}

type cacheEntry struct {
	value   []byte
	expires time.Time
}

var _ ports.Cache = (*Cache)(nil)

// CacheOption configures a Cache.
type CacheOption func(*Cache)

// WithMaxBytes sets the cache's memory bound (see Cache); n <= 0 keeps
// DefaultMaxBytes.
func WithMaxBytes(n int64) CacheOption {
	return func(c *Cache) {
		if n > 0 {
			c.maxBytes = n
		}
	}
}

// NewCache returns an empty cache that reads time from clock.
func NewCache(clock ports.Clock, opts ...CacheOption) *Cache {
	c := &Cache{clock: clock, maxBytes: DefaultMaxBytes, items: map[string]cacheEntry{}}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Len returns the number of entries held, expired ones not yet removed
// included. It is meant for tests and metrics.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items)
}

// Set implements ports.Cache.
func (c *Cache) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("inproc cache: set: ttl must be > 0, got %s", ttl)
	}
	now := c.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.store(now, key, value, ttl)
}

// SetNX implements ports.Cache.
func (c *Cache) SetNX(_ context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	if ttl <= 0 {
		return false, fmt.Errorf("inproc cache: setnx: ttl must be > 0, got %s", ttl)
	}
	now := c.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok && now.Before(e.expires) {
		return false, nil
	}
	if err := c.store(now, key, value, ttl); err != nil {
		return false, err
	}
	return true, nil
}

// Get implements ports.Cache.
func (c *Cache) Get(_ context.Context, key string) ([]byte, error) {
	now := c.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.live(now, key)
	if !ok {
		return nil, core.NotFound("cache entry")
	}
	return clone(e.value), nil
}

// Take implements ports.Cache.
func (c *Cache) Take(_ context.Context, key string) ([]byte, error) {
	now := c.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.live(now, key)
	if !ok {
		return nil, core.NotFound("cache entry")
	}
	c.remove(key, e)
	return e.value, nil // the entry is gone: nobody else holds this slice
}

// Delete implements ports.Cache.
func (c *Cache) Delete(_ context.Context, key string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		c.remove(key, e)
	}
	return nil
}

// live returns key's entry if it has not expired at now, and removes it if
// it has. c.mu is held.
func (c *Cache) live(now time.Time, key string) (cacheEntry, bool) {
	e, ok := c.items[key]
	if !ok {
		return cacheEntry{}, false
	}
	if !now.Before(e.expires) {
		c.remove(key, e)
		return cacheEntry{}, false
	}
	return e, true
}

// store writes key within the memory bound. c.mu is held.
func (c *Cache) store(now time.Time, key string, value []byte, ttl time.Duration) error {
	c.writes++
	if c.writes >= len(c.items) {
		c.sweep(now)
	}
	need := entrySize(key, value)
	if need > c.maxBytes {
		return fmt.Errorf("inproc cache: an entry of %d bytes exceeds the bound of %d bytes", need, c.maxBytes)
	}
	if c.free(key) < need && (now.Sub(c.lastSweep) >= fullSweepInterval || c.writes >= len(c.items)/8) {
		c.sweep(now)
	}
	if c.free(key) < need {
		return core.Unavailable("cache", ErrFull)
	}
	if old, ok := c.items[key]; ok {
		c.remove(key, old)
	}
	c.items[key] = cacheEntry{value: clone(value), expires: now.Add(ttl)}
	c.bytes += need
	return nil
}

// free returns the bytes available for a write of key, counting the space
// its current entry (if any) would give back. c.mu is held.
func (c *Cache) free(key string) int64 {
	f := c.maxBytes - c.bytes
	if old, ok := c.items[key]; ok {
		f += entrySize(key, old.value)
	}
	return f
}

func (c *Cache) remove(key string, e cacheEntry) {
	delete(c.items, key)
	c.bytes -= entrySize(key, e.value)
}

// sweep removes every entry expired at now. c.mu is held.
func (c *Cache) sweep(now time.Time) {
	for k, e := range c.items {
		if !now.Before(e.expires) {
			c.remove(k, e)
		}
	}
	c.writes = 0
	c.lastSweep = now
}

func entrySize(key string, value []byte) int64 {
	return int64(len(key) + len(value) + entryOverhead)
}

// clone copies b; a nil or empty b gives an empty, non-nil slice, so an
// empty value reads back as a value and not as an absence.
func clone(b []byte) []byte {
	return append(make([]byte, 0, len(b)), b...)
}
