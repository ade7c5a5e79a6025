package redisstore

import (
	"context"
	"fmt"

	"github.com/go-redis/redis_rate/v10"

	"github.com/gellhub/gellhub/ports"
)

// RateLimiter implements ports.RateLimiter with go-redis/redis_rate's GCRA
// Lua script: one atomic script call per event on the single key
// prefix+"rate:"+key, which expires once the key is back to its initial
// state. Time is the Redis server's (TIME), so every API instance agrees.
//
// The script computes in floating-point seconds, so Remaining can be one
// lower than the exact count and RetryAfter can be off by a microsecond.
type RateLimiter struct {
	c *Client
}

var _ ports.RateLimiter = (*RateLimiter)(nil)

// Allow implements ports.RateLimiter. A limit with Rate <= 0, Period <= 0
// or Burst < 0 is an error (a programming mistake, so KindInternal).
func (r *RateLimiter) Allow(ctx context.Context, key string, limit ports.Limit) (ports.RateDecision, error) {
	limit, err := limit.Normalize()
	if err != nil {
		return ports.RateDecision{}, fmt.Errorf("redis rate limiter: %w", err)
	}
	burst := limit.Burst
	res, err := r.c.limiter.Allow(ctx, key, redis_rate.Limit{Rate: limit.Rate, Burst: burst, Period: limit.Period})
	if err != nil {
		return ports.RateDecision{}, translate(ctx, "rate limit", "", err)
	}
	if res.Allowed == 0 {
		return ports.RateDecision{Allowed: false, Remaining: 0, RetryAfter: max(res.RetryAfter, 1)}, nil
	}
	return ports.RateDecision{Allowed: true, Remaining: max(res.Remaining, 0)}, nil
}
