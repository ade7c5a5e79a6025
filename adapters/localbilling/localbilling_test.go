package localbilling_test

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/adapters/localbilling"
	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
	"github.com/gellhub/gellhub/testkit"
)

var pro = core.Plan{
	ID: "plan_drive_pro_monthly", Line: core.LineDrive, Name: "Drive Pro", PriceMinor: 900, Currency: "usd",
	BillingPeriod: core.PeriodMonthly, Status: core.PlanActive,
}

func newPayments(t *testing.T) (*localbilling.Payments, *testkit.Clock) {
	t.Helper()
	clock := testkit.NewClock(time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC))
	p, err := localbilling.New(localbilling.Config{Store: testkit.NewStore(), Clock: clock, Random: rand.Reader, BaseURL: "http://127.0.0.1:8080/"})
	require.NoError(t, err)
	return p, clock
}

func requireKind(t *testing.T, err error, kind core.Kind, code string) {
	t.Helper()
	require.Equal(t, kind, core.ErrorKind(err), "%v", err)
	if code != "" {
		e, _ := core.AsError(err)
		require.Equal(t, code, e.Code)
	}
}

func TestNewRefusesAnIncompleteConfig(t *testing.T) {
	t.Parallel()
	_, err := localbilling.New(localbilling.Config{})
	require.Error(t, err)
	_, err = localbilling.New(localbilling.Config{Store: testkit.NewStore(), Clock: testkit.NewClock(time.Now()), Random: rand.Reader, BaseURL: "ftp://x"})
	require.Error(t, err)
}

func TestCheckoutPayAndPortal(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p, clock := newPayments(t)
	cus, err := p.EnsureCustomer(ctx, ports.CustomerParams{ProfileID: "prof_1", Email: "a@example.com", Line: core.LineDrive})
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(cus, "cus_local_"), cus)

	cs, err := p.CreateCheckoutSession(ctx, ports.CheckoutParams{
		ProfileID: "prof_1", Email: "a@example.com", Line: core.LineDrive, Plan: pro, CustomerID: cus,
		SuccessURL: "https://app.example/done?sid={CHECKOUT_SESSION_ID}", CancelURL: "https://app.example/cancel", Reference: "ref",
	})
	require.NoError(t, err)
	require.Equal(t, "http://127.0.0.1:8080/billing/local/checkout/"+cs.ID, cs.URL)
	require.Equal(t, core.CheckoutOpen, cs.Status)
	require.False(t, cs.Paid)
	require.Empty(t, cs.SubscriptionID)

	page, err := p.SimulatedCheckout(ctx, cs.ID)
	require.NoError(t, err)
	require.NotEmpty(t, page.Token)
	require.Equal(t, "https://app.example/done?sid={CHECKOUT_SESSION_ID}", page.SuccessURL)
	require.Equal(t, "ref", page.Session.Reference)

	t.Run("a_wrong_token_is_forbidden_and_changes_nothing", func(t *testing.T) {
		_, err := p.PaySimulated(ctx, cs.ID, "forged")
		requireKind(t, err, core.KindForbidden, "")
		_, err = p.PaySimulated(ctx, cs.ID, "")
		requireKind(t, err, core.KindForbidden, "")
		requireKind(t, p.CancelSimulated(ctx, cs.ID, "forged"), core.KindForbidden, "")
		got, _ := p.CheckoutSession(ctx, cs.ID)
		require.Equal(t, core.CheckoutOpen, got.Status)
	})

	ev, err := p.PaySimulated(ctx, cs.ID, page.Token)
	require.NoError(t, err)
	require.Equal(t, core.EventCheckoutCompleted, ev.Type)
	require.Equal(t, cs.ID, ev.CheckoutSessionID)
	require.Equal(t, cus, ev.CustomerID)
	require.True(t, strings.HasPrefix(ev.ID, "evt_local_"), ev.ID)

	t.Run("the_payment_created_what_stripe_would", func(t *testing.T) {
		got, err := p.CheckoutSession(ctx, cs.ID)
		require.NoError(t, err)
		require.Equal(t, core.CheckoutComplete, got.Status)
		require.True(t, got.Paid)
		require.Equal(t, ev.SubscriptionID, got.SubscriptionID)
		require.Equal(t, cus, got.CustomerID)
		require.Equal(t, "prof_1", got.ProfileID)
		require.Equal(t, pro.ID, got.PlanID)

		sub, err := p.Subscription(ctx, ev.SubscriptionID)
		require.NoError(t, err)
		require.Equal(t, core.StatusActive, sub.Status)
		require.Equal(t, cus, sub.CustomerID)
		require.Equal(t, "prof_1", sub.ProfileID)
		require.Equal(t, core.LineDrive, sub.Line)
		require.Equal(t, pro.ID, sub.PlanID)
		require.Equal(t, clock.Now().AddDate(0, 1, 0), *sub.CurrentPeriodEnd)

		inv, err := p.Invoices(ctx, cus, 10)
		require.NoError(t, err)
		require.Len(t, inv, 1)
		require.Equal(t, "paid", inv[0].Status)
		require.Equal(t, int64(900), inv[0].AmountPaid)
		require.Equal(t, "usd", inv[0].Currency)
		ch, err := p.Charges(ctx, cus, 10)
		require.NoError(t, err)
		require.Len(t, ch, 1)
		require.Equal(t, inv[0].ID, ch[0].InvoiceID)
	})

	t.Run("paying_again_reports_the_same_payment_once", func(t *testing.T) {
		again, err := p.PaySimulated(ctx, cs.ID, page.Token)
		require.NoError(t, err)
		require.Equal(t, ev, again)
		inv, _ := p.Invoices(ctx, cus, 10)
		require.Len(t, inv, 1)
		requireKind(t, p.CancelSimulated(ctx, cs.ID, page.Token), core.KindConflict, "checkout_not_open")
	})

	t.Run("portal_cancels_a_subscription_of_its_customer_only", func(t *testing.T) {
		u, err := p.PortalSession(ctx, cus, "https://app.example/account")
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(u, "http://127.0.0.1:8080/billing/local/portal/bps_local_"), u)
		id := strings.TrimPrefix(u, "http://127.0.0.1:8080/billing/local/portal/")
		portal, err := p.SimulatedPortal(ctx, id)
		require.NoError(t, err)
		require.Equal(t, "https://app.example/account", portal.ReturnURL)
		require.Len(t, portal.Subscriptions, 1)
		require.Len(t, portal.Invoices, 1)

		other, err := p.EnsureCustomer(ctx, ports.CustomerParams{ProfileID: "prof_2", Line: core.LineDrive})
		require.NoError(t, err)
		ou, err := p.PortalSession(ctx, other, "https://app.example/")
		require.NoError(t, err)
		oid := strings.TrimPrefix(ou, "http://127.0.0.1:8080/billing/local/portal/")
		op, err := p.SimulatedPortal(ctx, oid)
		require.NoError(t, err)
		_, err = p.CancelSimulatedSubscription(ctx, oid, op.Token, ev.SubscriptionID)
		requireKind(t, err, core.KindNotFound, "")
		_, err = p.CancelSimulatedSubscription(ctx, id, "forged", ev.SubscriptionID)
		requireKind(t, err, core.KindForbidden, "")

		del, err := p.CancelSimulatedSubscription(ctx, id, portal.Token, ev.SubscriptionID)
		require.NoError(t, err)
		require.Equal(t, core.EventSubscriptionDeleted, del.Type)
		require.Equal(t, ev.SubscriptionID, del.SubscriptionID)
		sub, _ := p.Subscription(ctx, ev.SubscriptionID)
		require.Equal(t, core.StatusCanceled, sub.Status)
		again, err := p.CancelSimulatedSubscription(ctx, id, portal.Token, ev.SubscriptionID)
		require.NoError(t, err)
		require.Equal(t, del, again)

		clock.Advance(localbilling.PortalLifetime)
		_, err = p.SimulatedPortal(ctx, id)
		requireKind(t, err, core.KindNotFound, "")
	})

	t.Run("unknown_ids_are_not_found", func(t *testing.T) {
		_, err := p.CheckoutSession(ctx, "cs_local_nope")
		requireKind(t, err, core.KindNotFound, "")
		_, err = p.PaySimulated(ctx, "cs_local_nope", "x")
		requireKind(t, err, core.KindNotFound, "")
		_, err = p.Subscription(ctx, "sub_nope")
		requireKind(t, err, core.KindNotFound, "")
		_, err = p.PortalSession(ctx, "cus_nope", "https://x.example/")
		requireKind(t, err, core.KindNotFound, "")
	})
}

func TestExpiredAndAbandonedCheckouts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p, clock := newPayments(t)
	open := func() (core.CheckoutSession, string) {
		cs, err := p.CreateCheckoutSession(ctx, ports.CheckoutParams{ProfileID: "prof_1", Line: core.LineDrive, Plan: pro, SuccessURL: "https://x.example/"})
		require.NoError(t, err)
		page, err := p.SimulatedCheckout(ctx, cs.ID)
		require.NoError(t, err)
		return cs, page.Token
	}
	abandoned, tok := open()
	require.NoError(t, p.CancelSimulated(ctx, abandoned.ID, tok))
	require.NoError(t, p.CancelSimulated(ctx, abandoned.ID, tok), "abandoning twice is harmless")
	_, err := p.PaySimulated(ctx, abandoned.ID, tok)
	requireKind(t, err, core.KindConflict, "checkout_not_open")

	late, tok := open()
	clock.Advance(localbilling.CheckoutLifetime)
	got, err := p.CheckoutSession(ctx, late.ID)
	require.NoError(t, err)
	require.Equal(t, core.CheckoutExpired, got.Status)
	_, err = p.PaySimulated(ctx, late.ID, tok)
	requireKind(t, err, core.KindConflict, "checkout_not_open")

	free := pro
	free.PriceMinor = 0
	_, err = p.CreateCheckoutSession(ctx, ports.CheckoutParams{ProfileID: "prof_1", Line: core.LineDrive, Plan: free})
	requireKind(t, err, core.KindInvalid, "")
}

func TestSyncPlanPriceIsStable(t *testing.T) {
	t.Parallel()
	p, _ := newPayments(t)
	a, err := p.SyncPlanPrice(context.Background(), pro)
	require.NoError(t, err)
	b, err := p.SyncPlanPrice(context.Background(), pro)
	require.NoError(t, err)
	require.Equal(t, a, b)
	changed := pro
	changed.PriceMinor++
	c, err := p.SyncPlanPrice(context.Background(), changed)
	require.NoError(t, err)
	require.NotEqual(t, a, c)
}
