package ports

import (
	"context"
	"fmt"
	"time"
)

// Cache holds short-lived values shared by every API instance (Redis in
// production, in-process in the embedded default). Keys are opaque strings;
// adapters may namespace them.
type Cache interface {
	// Set stores value under key for ttl. A ttl <= 0 is an error. An empty
	// value is a value, not absence. KindUnavailable when the backend is
	// down or full.
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error

	// SetNX stores value only when key is absent and reports whether it did.
	SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error)

	// Get returns the value; KindNotFound when absent or expired.
	Get(ctx context.Context, key string) ([]byte, error)

	// Take returns the value and deletes it in one atomic step: of many
	// concurrent Takes of one key, exactly one gets the value and the others
	// get KindNotFound.
	Take(ctx context.Context, key string) ([]byte, error)

	// Delete removes key; deleting an absent key is not an error.
	Delete(ctx context.Context, key string) error
}

// Limit is a rate: Rate events per Period, with bursts of up to Burst
// (Burst 0 means Burst = Rate).
type Limit struct {
	Rate   int
	Period time.Duration
	Burst  int
}

// RateDecision is a rate limiter's answer.
type RateDecision struct {
	Allowed    bool
	Remaining  int           // events still allowed right now
	RetryAfter time.Duration // when not allowed: how long until one is
}

// RateLimiter counts events per key with the generic cell rate algorithm
// (GCRA): smooth, one atomic step per event, a single key per limit.
type RateLimiter interface {
	// Allow records one event under key if limit allows it and says whether
	// it did. A refused event is not counted. RetryAfter is 0 when allowed;
	// Remaining may be one low (GCRA in floating point). An invalid limit
	// (Rate <= 0, Period <= 0, Burst < 0) is an error.
	Allow(ctx context.Context, key string, limit Limit) (RateDecision, error)
}

// Normalize returns l with Burst defaulted to Rate, or an error when l is
// invalid (Rate <= 0, Period <= 0 or Burst < 0): a programming mistake.
func (l Limit) Normalize() (Limit, error) {
	if l.Burst == 0 {
		l.Burst = l.Rate
	}
	if l.Rate <= 0 || l.Period <= 0 || l.Burst < 0 {
		return Limit{}, fmt.Errorf("invalid rate limit %+v", l)
	}
	return l, nil
}
