package inproc

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// DefaultMaxKeys is a RateLimiter's default bound on the keys it tracks at
// once (about 100 bytes plus the key's length each: some 30 MiB at the
// bound).
const DefaultMaxKeys = 1 << 18

// RateLimiter implements ports.RateLimiter in process memory with the
// generic cell rate algorithm, computed exactly as redis_rate (the Redis
// adapter's engine) does: each key keeps a theoretical arrival time (TAT);
// an event is allowed when now >= TAT + Period/Rate − Burst·Period/Rate,
// and then moves TAT forward by Period/Rate. A refused event changes
// nothing. Remaining is how many more events would be allowed right now;
// RetryAfter, on a refusal, is exactly how long until one is.
//
// A key whose TAT is not after now is in its initial state and is dropped:
// when touched, and by a sweep run once the calls since the last sweep reach
// the number of keys (O(1) per call amortised). So the map holds the keys
// used within the last Burst·Period/Rate, plus at most one sweep period's
// worth of stale ones. It never holds more than MaxKeys (DefaultMaxKeys
// unless WithMaxKeys says otherwise): a new key beyond that fails with
// core.KindUnavailable wrapping ErrFull, which callers treat like a limiter
// that is down.
type RateLimiter struct {
	clock   ports.Clock
	maxKeys int

	mu        sync.Mutex
	tats      map[string]time.Time
	calls     int // calls since the last sweep
	lastSweep time.Time
}

var _ ports.RateLimiter = (*RateLimiter)(nil)

// RateLimiterOption configures a RateLimiter.
type RateLimiterOption func(*RateLimiter)

// WithMaxKeys sets the bound on tracked keys (see RateLimiter); n <= 0 keeps
// DefaultMaxKeys.
func WithMaxKeys(n int) RateLimiterOption {
	return func(r *RateLimiter) {
		if n > 0 {
			r.maxKeys = n
		}
	}
}

// NewRateLimiter returns a rate limiter that reads time from clock.
func NewRateLimiter(clock ports.Clock, opts ...RateLimiterOption) *RateLimiter {
	r := &RateLimiter{clock: clock, maxKeys: DefaultMaxKeys, tats: map[string]time.Time{}}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Len returns the number of keys tracked, stale ones not yet dropped
// included. It is meant for tests and metrics.
func (r *RateLimiter) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.tats)
}

// Allow implements ports.RateLimiter. A limit with Rate <= 0, Period <= 0
// or Burst < 0 is an error (a programming mistake, so KindInternal).
func (r *RateLimiter) Allow(_ context.Context, key string, limit ports.Limit) (ports.RateDecision, error) {
	limit, err := limit.Normalize()
	if err != nil {
		return ports.RateDecision{}, fmt.Errorf("inproc rate limiter: %w", err)
	}
	burst := limit.Burst
	emission := max(limit.Period/time.Duration(limit.Rate), 1) // time between events at the steady rate
	burstOffset := emission * time.Duration(burst)

	now := r.clock.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.calls >= len(r.tats) {
		r.sweep(now)
	}

	tat, known := r.tats[key]
	if !known || tat.Before(now) {
		tat = now
	}
	newTAT := tat.Add(emission)
	diff := now.Sub(newTAT.Add(-burstOffset)) // how far past the earliest allowed time now is
	if diff < 0 {
		return ports.RateDecision{Allowed: false, Remaining: 0, RetryAfter: -diff}, nil
	}
	if !known && len(r.tats) >= r.maxKeys {
		if now.Sub(r.lastSweep) >= fullSweepInterval || r.calls >= len(r.tats)/8 {
			r.sweep(now)
		}
		if len(r.tats) >= r.maxKeys {
			return ports.RateDecision{}, core.Unavailable("rate limiter", ErrFull)
		}
	}
	r.tats[key] = newTAT
	return ports.RateDecision{Allowed: true, Remaining: int(diff / emission)}, nil
}

// sweep drops every key back in its initial state at now. r.mu is held.
func (r *RateLimiter) sweep(now time.Time) {
	for k, tat := range r.tats {
		if !tat.After(now) {
			delete(r.tats, k)
		}
	}
	r.calls = 0
	r.lastSweep = now
}
