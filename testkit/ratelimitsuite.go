package testkit

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gellhub/gellhub/ports"
)

// RunRateLimiterSuite is the contract of ports.RateLimiter. Every adapter
// must pass it.
//
// open returns a fresh limiter for one subtest (subtests run in parallel)
// and expire, which makes d pass for that limiter: an in-process limiter
// advances its fake clock, a remote one sleeps a little longer than d. The
// limits that need time to pass emit one event per 100 ms, so a sleeping
// expire keeps the suite under a second.
//
// Remaining is checked to within one event: a limiter that computes in
// floating point (redis_rate's Lua script does) may round an exact count
// down.
func RunRateLimiterSuite(t *testing.T, open func(t *testing.T) (ports.RateLimiter, func(time.Duration))) {
	t.Helper()
	// One event per 100 ms, bursts of 3.
	timed := ports.Limit{Rate: 10, Period: time.Second, Burst: 3}
	// Refills so slowly that the test's own duration does not matter.
	slow := ports.Limit{Rate: 5, Period: time.Hour, Burst: 5}

	t.Run("burst_allowed_then_refused", func(t *testing.T) {
		t.Parallel()
		rl, _ := open(t)
		for i := range timed.Burst {
			d := rlAllow(t, rl, "k", timed)
			if !d.Allowed {
				t.Fatalf("event %d of a burst of %d refused: %+v", i+1, timed.Burst, d)
			}
			if want := timed.Burst - 1 - i; d.Remaining > want || d.Remaining < want-1 {
				t.Errorf("event %d: Remaining = %d, want %d", i+1, d.Remaining, want)
			}
		}
		d := rlAllow(t, rl, "k", timed)
		if d.Allowed {
			t.Fatalf("event %d past a burst of %d allowed: %+v", timed.Burst+1, timed.Burst, d)
		}
		if d.Remaining != 0 {
			t.Errorf("refused: Remaining = %d, want 0", d.Remaining)
		}
		if d.RetryAfter <= 0 || d.RetryAfter > timed.Period {
			t.Errorf("refused: RetryAfter = %s, want in (0, %s]", d.RetryAfter, timed.Period)
		}
	})

	t.Run("burst_zero_means_rate", func(t *testing.T) {
		t.Parallel()
		rl, _ := open(t)
		l := ports.Limit{Rate: 4, Period: time.Hour}
		if n := rlAllowRun(t, rl, "k", l, 10); n != l.Rate {
			t.Fatalf("Burst 0, Rate %d: %d events allowed in a row, want %d", l.Rate, n, l.Rate)
		}
	})

	t.Run("refused_events_are_not_counted", func(t *testing.T) {
		t.Parallel()
		rl, expire := open(t)
		rlExhaust(t, rl, "k", timed)
		var last ports.RateDecision
		for range 10 {
			if last = rlAllow(t, rl, "k", timed); last.Allowed {
				t.Fatalf("allowed right after the burst: %+v", last)
			}
		}
		// Had the ten refusals been counted, the next event would be a
		// second away; it is RetryAfter away.
		expire(last.RetryAfter)
		if d := rlAllow(t, rl, "k", timed); !d.Allowed {
			t.Fatalf("refused after waiting RetryAfter (%s): %+v", last.RetryAfter, d)
		}
		if d := rlAllow(t, rl, "k", timed); d.Allowed {
			t.Fatalf("two events allowed after one emission interval: %+v", d)
		}
	})

	t.Run("recovers_after_time_passes", func(t *testing.T) {
		t.Parallel()
		rl, expire := open(t)
		rlExhaust(t, rl, "k", timed)
		// The whole burst comes back after Burst emission intervals.
		expire(time.Duration(timed.Burst) * timed.Period / time.Duration(timed.Rate))
		if n := rlAllowRun(t, rl, "k", timed, timed.Burst+2); n != timed.Burst {
			t.Fatalf("after a full refill %d events allowed in a row, want the burst of %d", n, timed.Burst)
		}
	})

	t.Run("keys_are_independent", func(t *testing.T) {
		t.Parallel()
		rl, _ := open(t)
		rlExhaust(t, rl, "a", slow)
		if d := rlAllow(t, rl, "b", slow); !d.Allowed {
			t.Fatalf("key b refused because key a is exhausted: %+v", d)
		}
		if d := rlAllow(t, rl, "a", slow); d.Allowed {
			t.Fatalf("key a allowed again: %+v", d)
		}
	})

	t.Run("invalid_limit_is_an_error", func(t *testing.T) {
		t.Parallel()
		rl, _ := open(t)
		for _, l := range []ports.Limit{
			{Rate: 0, Period: time.Second},
			{Rate: -1, Period: time.Second},
			{Rate: 1, Period: 0},
			{Rate: 1, Period: time.Second, Burst: -1},
		} {
			if d, err := rl.Allow(context.Background(), "k", l); err == nil {
				t.Errorf("Allow with %+v = %+v, want an error", l, d)
			}
		}
	})

	t.Run("concurrent_events_never_exceed_the_burst", func(t *testing.T) {
		t.Parallel()
		rl, _ := open(t)
		const workers = 20
		for round := range 5 {
			key := fmt.Sprintf("race-%d", round)
			var (
				allowed atomic.Int32
				wg      sync.WaitGroup
				start   = make(chan struct{})
				errs    = make(chan error, workers)
			)
			for range workers {
				wg.Go(func() {
					<-start
					d, err := rl.Allow(context.Background(), key, slow)
					if err != nil {
						errs <- err
						return
					}
					if d.Allowed {
						allowed.Add(1)
					}
				})
			}
			close(start)
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatalf("round %d: Allow: %v", round, err)
			}
			if n := int(allowed.Load()); n != slow.Burst {
				t.Fatalf("round %d: %d of %d concurrent events allowed, want the burst of %d", round, n, workers, slow.Burst)
			}
		}
	})
}

func rlAllow(t *testing.T, rl ports.RateLimiter, key string, l ports.Limit) ports.RateDecision {
	t.Helper()
	d, err := rl.Allow(context.Background(), key, l)
	if err != nil {
		t.Fatalf("Allow(%q, %+v): %v", key, l, err)
	}
	return d
}

// rlAllowRun calls Allow up to max times and returns how many events were
// allowed before the first refusal.
func rlAllowRun(t *testing.T, rl ports.RateLimiter, key string, l ports.Limit, max int) int {
	t.Helper()
	for i := range max {
		if !rlAllow(t, rl, key, l).Allowed {
			return i
		}
	}
	return max
}

// rlExhaust spends key's whole burst and checks the next event is refused.
func rlExhaust(t *testing.T, rl ports.RateLimiter, key string, l ports.Limit) {
	t.Helper()
	burst := l.Burst
	if burst == 0 {
		burst = l.Rate
	}
	if n := rlAllowRun(t, rl, key, l, burst+1); n != burst {
		t.Fatalf("%d events allowed in a row, want the burst of %d", n, burst)
	}
}
