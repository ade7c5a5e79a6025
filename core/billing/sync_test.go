package billing_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/billing"
)

// paidAccount registers an account and pays Gallery Pro through checkout;
// it returns the principal and the provider subscription id.
func (f *fixture) paidAccount() (core.Principal, string) {
	f.t.Helper()
	who, _ := f.register("")
	r, err := f.svc.Checkout(f.ctx, who, billing.CheckoutInput{PlanID: galleryPro})
	require.NoError(f.t, err)
	ev := f.pay(r.SessionID)
	return who, ev.SubscriptionID
}

func (f *fixture) setStatus(subID string, st core.SubscriptionStatus) {
	f.t.Helper()
	_, err := f.payments.UpdateSubscription(subID, func(s *core.ProviderSubscription) { s.Status = st })
	require.NoError(f.t, err)
}

func TestWebhookSync(t *testing.T) {
	t.Parallel()

	t.Run("checkout_completed_applies_the_paid_plan", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		who, subID := f.paidAccount()
		s, _ := f.sub(who.ProfileID, core.LineClientGallery)
		require.Equal(t, galleryPro, s.PlanID)
		require.Equal(t, core.StatusActive, s.Status)
		require.Equal(t, subID, s.StripeSubscriptionID)
		require.NotEmpty(t, s.StripeCustomerID)
		require.Equal(t, start.AddDate(0, 1, 0), *s.CurrentPeriodEnd)
		snap, ok, err := f.accounts.Subscription(f.ctx, who.ProfileID, core.LineClientGallery)
		require.NoError(t, err)
		require.True(t, ok)
		require.True(t, snap.Eligible)
		require.Equal(t, int64(500)<<30, snap.Plan.StorageLimitBytes, "the storage limit follows the plan in force")
	})

	t.Run("a_resent_event_is_applied_once", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		who, subID := f.paidAccount()
		ev := f.event(core.EventInvoicePaymentFailed, subID)
		f.setStatus(subID, core.StatusPastDue)
		require.NoError(t, f.svc.Ingest(f.ctx, ev))
		s, _ := f.sub(who.ProfileID, core.LineClientGallery)
		require.Equal(t, core.StatusPastDue, s.Status)
		// The provider moves on; the same event delivered again changes
		// nothing (it was applied), a new one does.
		f.setStatus(subID, core.StatusUnpaid)
		require.NoError(t, f.svc.Ingest(f.ctx, ev))
		s, _ = f.sub(who.ProfileID, core.LineClientGallery)
		require.Equal(t, core.StatusPastDue, s.Status)
		stored, err := f.store.PaymentEventByID(f.ctx, ev.ID)
		require.NoError(t, err)
		require.NotNil(t, stored.AppliedAt)
		require.NoError(t, f.svc.Ingest(f.ctx, f.event(core.EventSubscriptionUpdated, subID)))
		s, _ = f.sub(who.ProfileID, core.LineClientGallery)
		require.Equal(t, core.StatusUnpaid, s.Status)
		snap, _, _ := f.accounts.Subscription(f.ctx, who.ProfileID, core.LineClientGallery)
		require.False(t, snap.Eligible, "unpaid is not eligible")
	})

	t.Run("events_out_of_order_converge_on_the_providers_state", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		who, subID := f.paidAccount()
		older := f.event(core.EventInvoicePaid, subID) // sent while active
		f.clock.Advance(time.Hour)
		newer := f.event(core.EventSubscriptionUpdated, subID) // sent when it went past due
		f.setStatus(subID, core.StatusPastDue)
		require.NoError(t, f.svc.Ingest(f.ctx, newer))
		require.NoError(t, f.svc.Ingest(f.ctx, older))
		s, _ := f.sub(who.ProfileID, core.LineClientGallery)
		require.Equal(t, core.StatusPastDue, s.Status, "the older event does not bring back the older state")
	})

	t.Run("cancellation_falls_back_to_the_free_plan", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		who, subID := f.paidAccount()
		f.setStatus(subID, core.StatusCanceled)
		require.NoError(t, f.svc.Ingest(f.ctx, f.event(core.EventSubscriptionDeleted, subID)))
		s, _ := f.sub(who.ProfileID, core.LineClientGallery)
		require.Equal(t, galleryFree, s.PlanID)
		require.Equal(t, core.StatusActive, s.Status)
		require.Empty(t, s.StripeSubscriptionID)
		require.Nil(t, s.CurrentPeriodEnd)
		require.NotEmpty(t, s.StripeCustomerID, "the customer stays for the portal and invoices")
		// A late event about the ended subscription changes nothing.
		require.NoError(t, f.svc.Ingest(f.ctx, f.event(core.EventInvoicePaid, subID)))
		s, _ = f.sub(who.ProfileID, core.LineClientGallery)
		require.Equal(t, galleryFree, s.PlanID)
	})

	t.Run("an_abandoned_second_subscription_never_replaces_the_plan_in_force", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		who, _ := f.paidAccount()
		r, err := f.svc.Checkout(f.ctx, session(who), billing.CheckoutInput{PlanID: drivePlus})
		require.NoError(t, err)
		require.NoError(t, f.payments.Complete(r.SessionID))
		cs, _ := f.payments.CheckoutSession(f.ctx, r.SessionID)
		// Another gallery subscription that never got paid.
		_, err = f.payments.UpdateSubscription(cs.SubscriptionID, func(s *core.ProviderSubscription) {
			s.Line, s.PlanID, s.PriceID, s.Status = core.LineClientGallery, "plan_gallery_pro_annual", "", core.StatusIncomplete
		})
		require.NoError(t, err)
		require.NoError(t, f.svc.Ingest(f.ctx, f.event(core.EventSubscriptionCreated, cs.SubscriptionID)))
		s, _ := f.sub(who.ProfileID, core.LineClientGallery)
		require.Equal(t, galleryPro, s.PlanID)
		require.Equal(t, core.StatusActive, s.Status)
	})

	t.Run("a_failure_while_applying_is_retried_with_backoff", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		who, subID := f.paidAccount()
		f.setStatus(subID, core.StatusPastDue)
		f.payments.SetFailSubscription(core.Unavailable("payments", nil))
		ev := f.event(core.EventInvoicePaymentFailed, subID)
		require.NoError(t, f.svc.Ingest(f.ctx, ev), "recorded: the delivery is acknowledged")
		require.Equal(t, 1, f.reports.count())
		stored, err := f.store.PaymentEventByID(f.ctx, ev.ID)
		require.NoError(t, err)
		require.Nil(t, stored.AppliedAt)
		require.Equal(t, 1, stored.Attempts)
		require.Equal(t, start.Add(billing.FirstRetry), stored.NextAttemptAt)
		require.NotEmpty(t, stored.LastError)

		n, err := f.svc.RetryDue(f.ctx)
		require.NoError(t, err)
		require.Zero(t, n, "not due yet")
		f.clock.Advance(billing.FirstRetry)
		n, err = f.svc.RetryDue(f.ctx)
		require.NoError(t, err)
		require.Zero(t, n, "still failing")
		stored, _ = f.store.PaymentEventByID(f.ctx, ev.ID)
		require.Equal(t, 2, stored.Attempts)
		require.Equal(t, f.clock.Now().Add(2*billing.FirstRetry), stored.NextAttemptAt, "the delay doubles")

		f.payments.SetFailSubscription(nil)
		f.clock.Advance(2 * billing.FirstRetry)
		n, err = f.svc.RetryDue(f.ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		s, _ := f.sub(who.ProfileID, core.LineClientGallery)
		require.Equal(t, core.StatusPastDue, s.Status)
		n, _ = f.svc.RetryDue(f.ctx)
		require.Zero(t, n, "applied once")
	})

	t.Run("events_about_nothing_known_are_acknowledged_without_effect", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		ev := f.event(core.EventSubscriptionUpdated, "sub_unknown")
		require.NoError(t, f.svc.Ingest(f.ctx, ev))
		stored, err := f.store.PaymentEventByID(f.ctx, ev.ID)
		require.NoError(t, err)
		require.NotNil(t, stored.AppliedAt)
		noSub := f.event(core.EventInvoicePaid, "") // a one-off invoice
		require.NoError(t, f.svc.Ingest(f.ctx, noSub))
		other := f.event("charge.refunded", "sub_x")
		require.NoError(t, f.svc.Ingest(f.ctx, other))
		_, err = f.store.PaymentEventByID(f.ctx, other.ID)
		requireKind(t, err, core.KindNotFound, "", "")
		requireKind(t, f.svc.Ingest(f.ctx, core.PaymentEvent{Type: core.EventInvoicePaid}), core.KindInvalid, "", "id")
	})

	t.Run("webhooks_without_a_verifier_are_not_served", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		requireKind(t, f.svc.ReceiveWebhook(f.ctx, []byte(`{}`), "t=1,v1=00"), core.KindNotFound, "", "")
	})
}

func TestRetryDelay(t *testing.T) {
	t.Parallel()
	require.Equal(t, billing.FirstRetry, billing.RetryDelay(0))
	require.Equal(t, 2*billing.FirstRetry, billing.RetryDelay(1))
	require.Equal(t, 8*billing.FirstRetry, billing.RetryDelay(3))
	require.Equal(t, billing.MaxRetryDelay, billing.RetryDelay(40))
}

func TestSyncCheckout(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	who, _ := f.register("")
	r, err := f.svc.Checkout(f.ctx, who, billing.CheckoutInput{PlanID: galleryPro})
	require.NoError(t, err)
	require.NoError(t, f.svc.SyncCheckout(f.ctx, r.SessionID), "an open checkout applies nothing")
	s, _ := f.sub(who.ProfileID, core.LineClientGallery)
	require.Equal(t, galleryFree, s.PlanID)
	requireKind(t, f.svc.SyncCheckout(f.ctx, ""), core.KindInvalid, "", "session_id")
	requireKind(t, f.svc.SyncCheckout(f.ctx, "cs_unknown"), core.KindNotFound, "", "")

	require.NoError(t, f.payments.Complete(r.SessionID))
	require.NoError(t, f.svc.SyncCheckout(f.ctx, r.SessionID), "once paid, the same session applies")
	s, _ = f.sub(who.ProfileID, core.LineClientGallery)
	require.Equal(t, galleryPro, s.PlanID)
	require.Equal(t, core.StatusActive, s.Status)
}
