package jobs

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/testkit"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestRunnerRunsAtStartRepeatsAndStops(t *testing.T) {
	t.Parallel()
	var runs, fails atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	r := NewRunner(quiet,
		Job{Name: "count", Every: 5 * time.Millisecond, Run: func(context.Context) error { runs.Add(1); return nil }},
		Job{Name: "fail", Every: 5 * time.Millisecond, Run: func(context.Context) error { fails.Add(1); return errors.New("boom") }},
	)
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	require.Eventually(t, func() bool { return runs.Load() >= 3 && fails.Load() >= 3 }, 10*time.Second, time.Millisecond,
		"a failing job is retried at the next tick and does not stop the others")
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("runner did not stop")
	}
}

func TestRunnerBoundsARunByItsTimeout(t *testing.T) {
	t.Parallel()
	left := make(chan time.Duration, 2)
	run := func(ctx context.Context) error {
		dl, ok := ctx.Deadline()
		require.True(t, ok)
		left <- time.Until(dl)
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := NewRunner(quiet)
	r.runOnce(ctx, Job{Name: "bounded", Every: time.Hour, Timeout: time.Minute, Run: run})
	r.runOnce(ctx, Job{Name: "default", Every: time.Hour, Run: run})
	require.LessOrEqual(t, <-left, time.Minute, "Timeout bounds the run")
	require.Greater(t, <-left, 59*time.Minute, "without a Timeout, Every does")
}

func TestStandardPurgesExpiredSessions(t *testing.T) {
	t.Parallel()
	store := testkit.NewStore()
	clock := testkit.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	ctx := context.Background()
	now := clock.Now()
	require.NoError(t, store.CreateAccount(ctx, core.Account{Profile: core.Profile{ID: "p", Email: "p@example.com", EmailNormalized: "p@example.com"}}))
	require.NoError(t, store.CreateSession(ctx, core.Session{TokenDigest: "old", ProfileID: "p", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}))
	require.NoError(t, store.CreateSession(ctx, core.Session{TokenDigest: "new", ProfileID: "p", CreatedAt: now, ExpiresAt: now.Add(48 * time.Hour)}))
	clock.Advance(2 * time.Hour)

	js := Standard(quiet, clock, store, nil)
	require.Len(t, js, 1)
	require.Equal(t, "sessions.purge_expired", js[0].Name)
	require.NoError(t, js[0].Run(ctx))
	n, err := store.PurgeExpiredSessions(ctx, clock.Now())
	require.NoError(t, err)
	require.Zero(t, n, "the job already removed the expired session")
	_, err = store.SessionByDigest(ctx, "new", clock.Now())
	require.NoError(t, err, "live sessions stay")
}
