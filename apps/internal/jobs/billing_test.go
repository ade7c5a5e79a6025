package jobs

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/billing"
	"github.com/gellhub/gellhub/core/plans"
	"github.com/gellhub/gellhub/testkit"
)

func TestBillingRetriesEventsThatFailed(t *testing.T) {
	t.Parallel()
	require.Nil(t, Billing(quiet, nil))
	ctx := context.Background()
	store := testkit.NewStore()
	clock := testkit.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	ps := plans.New(store, clock, rand.Reader, nil)
	require.NoError(t, ps.Seed(ctx))
	pay := testkit.NewPayments(clock)
	svc := billing.New(billing.Config{Accounts: store, Store: store, Plans: ps, PlanStore: store, Payments: pay, Clock: clock, Random: rand.Reader})

	// An event whose application failed (the provider was down).
	pay.SetFailSubscription(core.Unavailable("payments", nil))
	ev := core.PaymentEvent{ID: "evt_1", Type: core.EventSubscriptionUpdated, Created: clock.Now(), SubscriptionID: "sub_gone"}
	require.NoError(t, svc.Ingest(ctx, ev))
	pay.SetFailSubscription(nil)

	js := Billing(quiet, svc)
	require.Len(t, js, 1)
	require.Equal(t, "billing.retry_events", js[0].Name)
	require.Equal(t, 10*time.Second, js[0].Every, "a webhook whose background application did not happen is applied soon")
	require.Greater(t, js[0].Timeout, 2*billing.ApplyTimeout, "a run leaves room for several attempts")
	require.NoError(t, js[0].Run(ctx))
	got, err := store.PaymentEventByID(ctx, "evt_1")
	require.NoError(t, err)
	require.Nil(t, got.AppliedAt, "not due yet")
	clock.Advance(billing.FirstRetry)
	require.NoError(t, js[0].Run(ctx))
	got, err = store.PaymentEventByID(ctx, "evt_1")
	require.NoError(t, err)
	require.NotNil(t, got.AppliedAt, "applied on retry")
}
