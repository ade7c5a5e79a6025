package testkit_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gellhub/gellhub/testkit"
)

// eventually polls cond until it holds, failing the test after 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// runLog records the runs of a MemQueue handler.
type runLog struct {
	mu   sync.Mutex
	runs map[string][]time.Time
}

func (l *runLog) add(id string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.runs == nil {
		l.runs = map[string][]time.Time{}
	}
	l.runs[id] = append(l.runs[id], time.Now())
	return len(l.runs[id])
}

func (l *runLog) times(id string) []time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]time.Time(nil), l.runs[id]...)
}

func TestMemQueue(t *testing.T) {
	t.Parallel()

	t.Run("runs_each_id_until_done_after_its_retry_in", func(t *testing.T) {
		t.Parallel()
		const retryIn = 30 * time.Millisecond
		var log runLog
		q := testkit.NewMemQueue(func(_ context.Context, id string) (time.Duration, bool, error) {
			n := log.add(id)
			return retryIn, id == "once" || n == 3, nil
		})
		defer q.Close()
		q.Enqueue([]string{"thrice", "once"})
		eventually(t, "both ids done", func() bool { return testkit.MemQueueLen(q) == 0 })
		if n := len(log.times("once")); n != 1 {
			t.Fatalf("once ran %d times", n)
		}
		ts := log.times("thrice")
		if len(ts) != 3 {
			t.Fatalf("thrice ran %d times", len(ts))
		}
		for i := 1; i < len(ts); i++ {
			if d := ts[i].Sub(ts[i-1]); d < retryIn {
				t.Fatalf("run %d came %v after the previous one, before retryIn %v", i+1, d, retryIn)
			}
		}
	})

	t.Run("an_id_runs_once_at_a_time_and_is_not_queued_twice", func(t *testing.T) {
		t.Parallel()
		var running, overlaps, runs atomic.Int32
		started, release := make(chan struct{}), make(chan struct{})
		q := testkit.NewMemQueue(func(context.Context, string) (time.Duration, bool, error) {
			if running.Add(1) > 1 {
				overlaps.Add(1)
			}
			defer running.Add(-1)
			if runs.Add(1) == 1 {
				close(started)
				<-release
				return 0, false, nil // once more, right away
			}
			return 0, true, nil
		})
		q.Enqueue([]string{"a"})
		<-started
		for range 5 {
			q.Enqueue([]string{"a", "a"})
		}
		close(release)
		eventually(t, "a done", func() bool { return testkit.MemQueueLen(q) == 0 })
		q.Close() // waits for any run started meanwhile
		if runs.Load() != 2 || overlaps.Load() != 0 {
			t.Fatalf("%d runs, %d overlapping; want 2 and none", runs.Load(), overlaps.Load())
		}
	})

	t.Run("errors_back_off_doubling_and_give_up", func(t *testing.T) {
		t.Parallel()
		const base, maxBackoff, maxErrors = 5 * time.Millisecond, 20 * time.Millisecond, 6
		var log runLog
		q := testkit.NewMemQueue(func(_ context.Context, id string) (time.Duration, bool, error) {
			log.add(id)
			return time.Hour, false, errors.New("receiver down") // retryIn is ignored on error
		})
		testkit.SetMemQueueBackoff(q, base, maxBackoff, maxErrors)
		defer q.Close()
		q.Enqueue([]string{"down"})
		eventually(t, "the id given up", func() bool { return testkit.MemQueueLen(q) == 0 })
		ts := log.times("down")
		if len(ts) != maxErrors {
			t.Fatalf("%d runs, want %d", len(ts), maxErrors)
		}
		want := base
		for i := 1; i < len(ts); i++ {
			if d := ts[i].Sub(ts[i-1]); d < want {
				t.Fatalf("retry %d came after %v, want at least %v", i, d, want)
			}
			want = min(2*want, maxBackoff)
		}
		// Given up: enqueued again, it runs again.
		q.Enqueue([]string{"down"})
		eventually(t, "the second round given up", func() bool { return len(log.times("down")) == 2*maxErrors && testkit.MemQueueLen(q) == 0 })
	})

	t.Run("a_run_that_is_not_done_resets_the_error_count", func(t *testing.T) {
		t.Parallel()
		var runs atomic.Int32
		q := testkit.NewMemQueue(func(context.Context, string) (time.Duration, bool, error) {
			switch n := runs.Add(1); {
			case n == 4: // after 3 errors
				return 0, false, nil
			case n == 9: // after 4 more
				return 0, true, nil
			default:
				return 0, false, errors.New("flaky")
			}
		})
		testkit.SetMemQueueBackoff(q, time.Millisecond, time.Millisecond, 5)
		defer q.Close()
		q.Enqueue([]string{"flaky"})
		eventually(t, "flaky done", func() bool { return testkit.MemQueueLen(q) == 0 })
		if runs.Load() != 9 {
			t.Fatalf("%d runs, want 9: the error count must restart after a run without error", runs.Load())
		}
	})

	t.Run("close_cancels_running_handlers_waits_and_stops_timers", func(t *testing.T) {
		t.Parallel()
		var log runLog
		var canceled atomic.Bool
		started := make(chan struct{})
		q := testkit.NewMemQueue(func(ctx context.Context, id string) (time.Duration, bool, error) {
			log.add(id)
			if id == "later" {
				return time.Millisecond, false, nil
			}
			close(started)
			<-ctx.Done()
			canceled.Store(true)
			return 0, false, ctx.Err()
		})
		q.Enqueue([]string{"slow"})
		<-started
		q.Enqueue([]string{"later"})
		eventually(t, "later ran", func() bool { return len(log.times("later")) >= 1 })
		q.Close()
		if !canceled.Load() {
			t.Fatal("Close returned before the running handler saw its context canceled")
		}
		runs := len(log.times("later"))
		q.Enqueue([]string{"after-close"})
		// A second Close waits too; a timer that was not stopped would
		// fire during the sleep (nothing to poll for: the check is that
		// nothing happens).
		q.Close()
		time.Sleep(20 * time.Millisecond)
		if n := len(log.times("later")); n != runs {
			t.Fatalf("later ran %d times after Close", n-runs)
		}
		if n := len(log.times("after-close")); n != 0 {
			t.Fatal("an id enqueued after Close ran")
		}
	})
}
