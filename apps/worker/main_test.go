package main

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestWorkerRunsItsJobsAndStops(t *testing.T) {
	t.Parallel()
	env := map[string]string{"GELLHUB_DATA_DIR": t.TempDir()}
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan []string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, func(k string) string { return env[k] }, io.Discard, started) }()
	select {
	case jobs := <-started:
		require.Contains(t, jobs, "sessions.purge_expired")
		require.Contains(t, jobs, "billing.retry_events")
		require.Contains(t, jobs, "webhooks.purge_deliveries")
		require.Contains(t, jobs, "webhooks.requeue_stalled")
	case err := <-done:
		t.Fatalf("worker stopped early: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("worker did not start")
	}
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("worker did not stop")
	}
}
