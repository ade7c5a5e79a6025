package billing_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/billing"
	"github.com/gellhub/gellhub/testkit"
)

// racyStore is the fixture's store with a hook that runs once, right
// before the write of a free-plan switch (whichever store method does it):
// what a webhook landing between Checkout's read and its write does.
type racyStore struct {
	*testkit.Store
	mu     sync.Mutex
	before func()
}

func (s *racyStore) arm(fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.before = fn
}

func (s *racyStore) fire() {
	s.mu.Lock()
	fn := s.before
	s.before = nil
	s.mu.Unlock()
	if fn != nil {
		fn()
	}
}

func (s *racyStore) SetSubscription(ctx context.Context, sub core.Subscription) error {
	s.fire()
	return s.Store.SetSubscription(ctx, sub)
}

func (s *racyStore) UpdateSubscription(ctx context.Context, profileID string, line core.ProductLine,
	fn func(*core.Subscription, *time.Time) (*core.Subscription, error)) error {
	s.fire()
	return s.Store.UpdateSubscription(ctx, profileID, line, fn)
}

// TestFreePlanNeverOverwritesAPaymentAppliedMeanwhile: the checkout of a
// paid plan completes, and its webhook is applied, while the same line
// switches to the free plan. The switch sees the payment and is refused;
// the line stays on the paid plan that the provider bills.
func TestFreePlanNeverOverwritesAPaymentAppliedMeanwhile(t *testing.T) {
	t.Parallel()
	var rs *racyStore
	f := newFixture(t, func(f *fixture, c *billing.Config) {
		rs = &racyStore{Store: f.store}
		c.Accounts, c.Store = rs, rs
	})
	who, _ := f.register("")
	r, err := f.svc.Checkout(f.ctx, who, billing.CheckoutInput{PlanID: galleryPro})
	require.NoError(t, err)
	var paid core.PaymentEvent
	rs.arm(func() { paid = f.pay(r.SessionID) })

	_, err = f.svc.Checkout(f.ctx, who, billing.CheckoutInput{PlanID: galleryFree})
	requireKind(t, err, core.KindConflict, "paid_subscription_active", "")
	require.NotEmpty(t, paid.SubscriptionID, "the webhook landed")
	s, _ := f.sub(who.ProfileID, core.LineClientGallery)
	require.Equal(t, galleryPro, s.PlanID, "the payment applied meanwhile is kept")
	require.Equal(t, core.StatusActive, s.Status)
	require.Equal(t, paid.SubscriptionID, s.StripeSubscriptionID, "the provider subscription is still tracked")
}

// TestFreePlanIsRefusedWhileTheProviderMayBill: any provider subscription
// that has not ended blocks the free plan, not only one being paid for;
// once it has ended the free plan is chosen freely.
func TestFreePlanIsRefusedWhileTheProviderMayBill(t *testing.T) {
	t.Parallel()
	for _, st := range []core.SubscriptionStatus{
		core.StatusActive, core.StatusTrialing, core.StatusPastDue, core.StatusIncomplete, core.StatusUnpaid, core.StatusPaused,
	} {
		t.Run(string(st), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			who, subID := f.paidAccount()
			f.setStatus(subID, st)
			require.NoError(t, f.svc.Ingest(f.ctx, f.event(core.EventSubscriptionUpdated, subID)))
			before, _ := f.sub(who.ProfileID, core.LineClientGallery)
			require.Equal(t, st, before.Status)

			_, err := f.svc.Checkout(f.ctx, session(who), billing.CheckoutInput{PlanID: galleryFree})
			requireKind(t, err, core.KindConflict, "paid_subscription_active", "")
			after, _ := f.sub(who.ProfileID, core.LineClientGallery)
			require.Equal(t, before, after, "nothing changed")
		})
	}

	t.Run("ended", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		who, subID := f.paidAccount()
		f.setStatus(subID, core.StatusCanceled)
		require.NoError(t, f.svc.Ingest(f.ctx, f.event(core.EventSubscriptionDeleted, subID)))
		r, err := f.svc.Checkout(f.ctx, who, billing.CheckoutInput{PlanID: galleryFree})
		require.NoError(t, err)
		require.True(t, r.Activated)
		s, _ := f.sub(who.ProfileID, core.LineClientGallery)
		require.Equal(t, galleryFree, s.PlanID)
		require.Empty(t, s.StripeSubscriptionID)
		require.NotEmpty(t, s.StripeCustomerID, "the customer is kept")
	})
}
