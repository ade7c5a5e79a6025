package jobs

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
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
	store := testkit.NewStore()
	store.SetEnqueuer(func([]string) {})
	clock := testkit.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	now := clock.Now()
	require.NoError(t, store.CreateAccount(ctx, core.Account{Profile: core.Profile{ID: "p", Email: "p@example.com", EmailNormalized: "p@example.com"}}))
	_, err := store.RecordTurn(ctx, ports.ChatTurn{
		ProfileID: "p", ConversationID: "conv_1", Ref: "thread", Channel: "api", AgentID: "agt_1", At: now,
		Messages: []core.ConversationMessage{{ID: "cmsg_1", Role: core.RoleUser, Content: "a person please", CreatedAt: now}},
		Deliveries: []core.WebhookDelivery{
			{ID: "evt_done", Event: core.EventHandoffRequested, Body: []byte(`{}`)},
			{ID: "evt_pending", Event: core.EventHandoffMessage, Body: []byte(`{}`)},
		},
	})
	require.NoError(t, err)
	done, err := store.Delivery(ctx, "evt_done")
	require.NoError(t, err)
	done.State, done.AttemptCount, done.NextAttemptAt, done.DeliveredAt, done.UpdatedAt = core.DeliveryDelivered, 1, time.Time{}, now, now
	require.NoError(t, store.RecordAttempt(ctx, done, core.WebhookAttempt{N: 1, At: now, URL: "https://hooks.example.com/", StatusCode: 204}))

	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	svc := messaging.New(messaging.Config{Store: store, Webhooks: store, Clock: clock})
	js := Messaging(log, svc)
	require.Len(t, js, 1)
	require.Equal(t, "webhooks.purge_deliveries", js[0].Name)
	require.Equal(t, time.Hour, js[0].Every)
	require.Equal(t, 5*time.Minute, js[0].Timeout)

	// Not old enough yet: nothing goes, and nothing is logged.
	clock.Advance(messaging.DeliveryRetention - time.Minute)
	require.NoError(t, js[0].Run(ctx))
	_, err = store.Delivery(ctx, "evt_done")
	require.NoError(t, err)
	require.Empty(t, logs.String())

	clock.Advance(time.Hour)
	require.NoError(t, js[0].Run(ctx))
	_, err = store.Delivery(ctx, "evt_done")
	require.True(t, core.IsKind(err, core.KindNotFound), "the finished delivery is purged: %v", err)
	_, err = store.Delivery(ctx, "evt_pending")
	require.NoError(t, err, "a pending delivery stays")
	require.Contains(t, logs.String(), "level=INFO")
	require.Contains(t, logs.String(), "count=1")
	require.Equal(t, 1, strings.Count(logs.String(), "\n"), "one line: %s", logs.String())
}
