package inproc_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gellhub/gellhub/adapters/inproc"
	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
	"github.com/gellhub/gellhub/testkit"
)

func TestRateLimiter(t *testing.T) {
	t.Parallel()
	testkit.RunRateLimiterSuite(t, func(t *testing.T) (ports.RateLimiter, func(time.Duration)) {
		clock := testkit.NewClock(epoch)
		return inproc.NewRateLimiter(clock), clock.Advance
	})
}

// TestRateLimiterGCRA pins the exact numbers redis_rate's script gives for
// 10 events per second with bursts of 3 (one event per 100 ms).
func TestRateLimiterGCRA(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := testkit.NewClock(epoch)
	rl := inproc.NewRateLimiter(clock)
	l := ports.Limit{Rate: 10, Period: time.Second, Burst: 3}
	step := func(want ports.RateDecision) {
		t.Helper()
		got, err := rl.Allow(ctx, "k", l)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("at +%s: Allow = %+v, want %+v", clock.Now().Sub(epoch), got, want)
		}
	}
	step(ports.RateDecision{Allowed: true, Remaining: 2})
	step(ports.RateDecision{Allowed: true, Remaining: 1})
	clock.Advance(30 * time.Millisecond)
	step(ports.RateDecision{Allowed: true, Remaining: 0})
	step(ports.RateDecision{Allowed: false, RetryAfter: 70 * time.Millisecond})
	clock.Advance(69 * time.Millisecond)
	step(ports.RateDecision{Allowed: false, RetryAfter: time.Millisecond})
	clock.Advance(time.Millisecond)
	step(ports.RateDecision{Allowed: true, Remaining: 0})
	clock.Advance(time.Hour)
	step(ports.RateDecision{Allowed: true, Remaining: 2})
}

func TestRateLimiterDropsStaleKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := testkit.NewClock(epoch)
	rl := inproc.NewRateLimiter(clock)
	l := ports.Limit{Rate: 1, Period: time.Minute}
	const n = 1000
	for i := range n {
		if _, err := rl.Allow(ctx, fmt.Sprintf("old-%d", i), l); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(time.Minute) // every old key is back to its initial state
	for i := range n {
		if _, err := rl.Allow(ctx, fmt.Sprintf("new-%d", i%10), ports.Limit{Rate: 1000, Period: time.Minute}); err != nil {
			t.Fatal(err)
		}
	}
	if got := rl.Len(); got > 10 {
		t.Fatalf("Len = %d after the old keys went stale and %d calls, want 10", got, n)
	}
}

func TestRateLimiterKeyBound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := testkit.NewClock(epoch)
	rl := inproc.NewRateLimiter(clock, inproc.WithMaxKeys(5))
	l := ports.Limit{Rate: 1, Period: time.Minute}
	for i := range 5 {
		if d, err := rl.Allow(ctx, fmt.Sprintf("k%d", i), l); err != nil || !d.Allowed {
			t.Fatalf("key %d within the bound: %+v, %v", i, d, err)
		}
	}
	_, err := rl.Allow(ctx, "k5", l)
	if !core.IsKind(err, core.KindUnavailable) || !errors.Is(err, inproc.ErrFull) {
		t.Fatalf("a new key past the bound: %v, want KindUnavailable wrapping ErrFull", err)
	}
	if d, err := rl.Allow(ctx, "k0", l); err != nil || d.Allowed {
		t.Fatalf("a known key past the bound = %+v, %v; want a plain refusal", d, err)
	}
	clock.Advance(time.Minute)
	if d, err := rl.Allow(ctx, "k5", l); err != nil || !d.Allowed {
		t.Fatalf("a new key once the old ones went stale = %+v, %v; want allowed", d, err)
	}
}
