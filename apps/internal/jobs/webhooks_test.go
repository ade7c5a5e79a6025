package jobs

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/messaging"
	"github.com/gellhub/gellhub/ports"
	"github.com/gellhub/gellhub/testkit"
)

func TestMessagingPurgesFinishedDeliveries(t *testing.T) {
	t.Parallel()
	require.Nil(t, Messaging(quiet, nil))
	ctx := context.Background()
	store, clock := deliveriesFixture(t, "evt_done", "evt_pending")

	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	svc := messaging.New(messaging.Config{Store: store, Webhooks: store, Clock: clock})
	purge := jobNamed(t, Messaging(log, svc), "webhooks.purge_deliveries")
	require.Equal(t, time.Hour, purge.Every)
	require.Equal(t, 5*time.Minute, purge.Timeout)

	// Not old enough yet: nothing goes, and nothing is logged.
	clock.Advance(messaging.DeliveryRetention - time.Minute)
	require.NoError(t, purge.Run(ctx))
	_, err := store.Delivery(ctx, "evt_done")
	require.NoError(t, err)
	require.Empty(t, logs.String())

	clock.Advance(time.Hour)
	require.NoError(t, purge.Run(ctx))
	_, err = store.Delivery(ctx, "evt_done")
	require.True(t, core.IsKind(err, core.KindNotFound), "the finished delivery is purged: %v", err)
	_, err = store.Delivery(ctx, "evt_pending")
	require.NoError(t, err, "a pending delivery stays")
	require.Contains(t, logs.String(), "level=INFO")
	require.Contains(t, logs.String(), "count=1")
	require.Equal(t, 1, strings.Count(logs.String(), "\n"), "one line: %s", logs.String())
}

// deliveriesFixture is a memory store with one profile whose turn queued
// two deliveries: done, delivered at the clock's time, and pending.
func deliveriesFixture(t *testing.T, done, pending string) (*testkit.Store, *testkit.Clock) {
	t.Helper()
	ctx := context.Background()
	store := testkit.NewStore()
	store.SetEnqueuer(func([]string) {})
	clock := testkit.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	now := clock.Now()
	require.NoError(t, store.CreateAccount(ctx, core.Account{Profile: core.Profile{ID: "p", Email: "p@example.com", EmailNormalized: "p@example.com"}}))
	_, err := store.RecordTurn(ctx, ports.ChatTurn{
		ProfileID: "p", ConversationID: "conv_1", Ref: "thread", Channel: "api", AgentID: "agt_1", At: now,
		Messages: []core.ConversationMessage{{ID: "cmsg_1", Role: core.RoleUser, Content: "a person please", CreatedAt: now}},
		Deliveries: []core.WebhookDelivery{
			{ID: done, Event: core.EventHandoffRequested, Body: []byte(`{}`)},
			{ID: pending, Event: core.EventHandoffMessage, Body: []byte(`{}`)},
		},
	})
	require.NoError(t, err)
	d, err := store.Delivery(ctx, done)
	require.NoError(t, err)
	d.State, d.AttemptCount, d.NextAttemptAt, d.DeliveredAt, d.UpdatedAt = core.DeliveryDelivered, 1, time.Time{}, now, now
	require.NoError(t, store.RecordAttempt(ctx, d, core.WebhookAttempt{N: 1, At: now, URL: "https://hooks.example.com/", StatusCode: 204}))
	return store, clock
}

// jobNamed returns the job of js called name.
func jobNamed(t *testing.T, js []Job, name string) Job {
	t.Helper()
	var names []string
	for _, j := range js {
		if j.Name == name {
			return j
		}
		names = append(names, j.Name)
	}
	t.Fatalf("no job %s among %v", name, names)
	return Job{}
}

func TestMessagingRequeuesStalledDeliveries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, clock := deliveriesFixture(t, "evt_done", "evt_lost")

	var mu sync.Mutex
	var requeued [][]string
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	svc := messaging.New(messaging.Config{Store: store, Webhooks: store, Clock: clock, Requeue: func(_ context.Context, ids []string) error {
		mu.Lock()
		defer mu.Unlock()
		requeued = append(requeued, slices.Clone(ids))
		return nil
	}})
	sweep := jobNamed(t, Messaging(log, svc), "webhooks.requeue_stalled")
	require.Equal(t, 10*time.Minute, sweep.Every)
	require.Equal(t, 2*time.Minute, sweep.Timeout)

	// Not late enough yet: nothing is handed over, and nothing is logged.
	clock.Advance(messaging.StalledAfter)
	require.NoError(t, sweep.Run(ctx))
	require.Empty(t, requeued)
	require.Empty(t, logs.String())

	clock.Advance(time.Second)
	require.NoError(t, sweep.Run(ctx))
	require.Equal(t, [][]string{{"evt_lost"}}, requeued, "the pending delivery only")
	require.Contains(t, logs.String(), "level=WARN")
	require.Contains(t, logs.String(), "re-enqueued stalled webhook deliveries")
	require.Contains(t, logs.String(), "count=1")
	require.Equal(t, 1, strings.Count(logs.String(), "\n"), "one line: %s", logs.String())

	// A failing queue fails the run (the runner logs it), and logs no
	// count.
	logs.Reset()
	down := errors.New("queue down")
	svc = messaging.New(messaging.Config{Store: store, Webhooks: store, Clock: clock, Requeue: func(context.Context, []string) error { return down }})
	err := jobNamed(t, Messaging(log, svc), "webhooks.requeue_stalled").Run(ctx)
	require.ErrorIs(t, err, down)
	require.Empty(t, logs.String())
}
