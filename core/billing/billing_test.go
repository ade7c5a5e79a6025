package billing_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/adapters/argon2id"
	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/accounts"
	"github.com/gellhub/gellhub/core/billing"
	"github.com/gellhub/gellhub/core/plans"
	"github.com/gellhub/gellhub/testkit"
)

var start = time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)

const (
	galleryPro  = "plan_gallery_pro_monthly"
	galleryFree = "plan_gallery_free"
	drivePlus   = "plan_drive_plus_monthly"
	msgGrowth   = "plan_messaging_growth_monthly"
	base        = "https://gellhub.example"
)

// fixture is a billing.Service on in-memory adapters with the default
// catalog seeded, testkit.Payments as the provider, and one fake clock.
type fixture struct {
	t        *testing.T
	ctx      context.Context
	store    *testkit.Store
	clock    *testkit.Clock
	plans    *plans.Service
	accounts *accounts.Service
	payments *testkit.Payments
	svc      *billing.Service
	reports  *reports
	n        int
}

type reports struct {
	mu   sync.Mutex
	errs []error
}

func (r *reports) add(_ context.Context, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, err)
}

func (r *reports) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.errs)
}

// newFixture builds the fixture; opts may change the service's Config
// (wrap the provider or the store, add a verifier) before it is built.
func newFixture(t *testing.T, opts ...func(f *fixture, c *billing.Config)) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: context.Background(), store: testkit.NewStore(), clock: testkit.NewClock(start), reports: &reports{}}
	f.plans = plans.New(f.store, f.clock, rand.Reader, nil)
	require.NoError(t, f.plans.Seed(f.ctx))
	var err error
	f.accounts, err = accounts.New(accounts.Config{
		Accounts: f.store, Sessions: f.store, Plans: f.plans, Hasher: argon2id.New(argon2id.TestParams),
		Clock: f.clock, Random: rand.Reader,
	})
	require.NoError(t, err)
	f.payments = testkit.NewPayments(f.clock)
	cfg := billing.Config{
		Accounts: f.store, Store: f.store, Plans: f.plans, PlanStore: f.store, Payments: f.payments,
		Clock: f.clock, Random: rand.Reader, BaseURL: base + "/", Report: f.reports.add,
	}
	for _, o := range opts {
		o(f, &cfg)
	}
	f.svc = billing.New(cfg)
	t.Cleanup(f.svc.Close)
	f.accounts.SetCheckout(f.svc.RegistrationCheckout())
	return f
}

// register creates a studio account on planID ("" for the free plan) and
// returns its Client Gallery key principal and the registration.
func (f *fixture) register(planID string) (core.Principal, accounts.Registered) {
	f.t.Helper()
	f.n++
	r, err := f.accounts.Register(f.ctx, accounts.RegisterInput{
		Email: fmt.Sprintf("user%d@example.com", f.n), Password: "long enough pw",
		DisplayName: "Studio", AccountType: "studio", PlanID: planID, ClientIP: "198.51.100.1",
	})
	require.NoError(f.t, err)
	p := r.Account.Profile
	return core.Principal{ProfileID: p.ID, Email: p.Email, Via: core.AuthAPIKey, Line: core.LineClientGallery}, r
}

func session(p core.Principal) core.Principal {
	p.Via, p.Line = core.AuthSession, ""
	return p
}

// sub returns the profile's subscription of line.
func (f *fixture) sub(profileID string, line core.ProductLine) (core.Subscription, bool) {
	f.t.Helper()
	subs, err := f.store.Subscriptions(f.ctx, profileID)
	require.NoError(f.t, err)
	for _, s := range subs {
		if s.Line == line {
			return s, true
		}
	}
	return core.Subscription{}, false
}

// pay completes checkout session id at the provider and delivers its
// checkout.session.completed event; it returns the event.
func (f *fixture) pay(id string) core.PaymentEvent {
	f.t.Helper()
	require.NoError(f.t, f.payments.Complete(id))
	cs, err := f.payments.CheckoutSession(f.ctx, id)
	require.NoError(f.t, err)
	ev := f.event(core.EventCheckoutCompleted, cs.SubscriptionID)
	ev.CheckoutSessionID, ev.CustomerID = id, cs.CustomerID
	require.NoError(f.t, f.svc.Ingest(f.ctx, ev))
	return ev
}

func (f *fixture) event(typ, subID string) core.PaymentEvent {
	f.n++
	return core.PaymentEvent{ID: fmt.Sprintf("evt_%d", f.n), Type: typ, Created: f.clock.Now(), SubscriptionID: subID}
}

func requireKind(t *testing.T, err error, kind core.Kind, code, detail string) {
	t.Helper()
	e, ok := core.AsError(err)
	require.True(t, ok, "want a core error of kind %s, got %v", kind, err)
	require.Equal(t, kind, e.Kind, "%v", err)
	if code != "" {
		require.Equal(t, code, e.Code, "%v", err)
	}
	if detail != "" {
		require.Equal(t, detail, e.Detail, "%v", err)
	}
}

func TestCheckout(t *testing.T) {
	t.Parallel()
	t.Run("a_free_plan_is_applied_at_once", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		who, _ := f.register(galleryPro)
		r, err := f.svc.Checkout(f.ctx, who, billing.CheckoutInput{PlanID: galleryFree, SuccessURL: "https://app.example/ok"})
		require.NoError(t, err)
		require.Equal(t, billing.CheckoutResult{URL: "https://app.example/ok", Activated: true}, r)
		s, _ := f.sub(who.ProfileID, core.LineClientGallery)
		require.Equal(t, galleryFree, s.PlanID)
		require.Equal(t, core.StatusActive, s.Status)
		require.Len(t, f.payments.Sessions(), 1, "registration's only: no checkout for a free plan")

		// A session may subscribe any line; the URL defaults to the dashboard.
		r, err = f.svc.Checkout(f.ctx, session(who), billing.CheckoutInput{PlanID: "plan_messaging_free"})
		require.NoError(t, err)
		require.Equal(t, base+billing.DashboardPath, r.URL)
		require.True(t, r.Activated)
		m, ok := f.sub(who.ProfileID, core.LineMessaging)
		require.True(t, ok)
		require.Equal(t, "plan_messaging_free", m.PlanID)
	})

	t.Run("a_paid_plan_opens_a_checkout_for_the_lines_own_customer", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		who, _ := f.register("")
		in := billing.CheckoutInput{PlanID: galleryPro, SuccessURL: "https://app.example/done?sid={CHECKOUT_SESSION_ID}", CancelURL: "https://app.example/cancel"}
		r, err := f.svc.Checkout(f.ctx, who, in)
		require.NoError(t, err)
		require.False(t, r.Activated)
		require.True(t, strings.HasPrefix(r.URL, "https://checkout.example/pay/"), r.URL)
		p, err := f.payments.Params(r.SessionID)
		require.NoError(t, err)
		require.Equal(t, galleryPro, p.Plan.ID)
		require.Equal(t, core.LineClientGallery, p.Line)
		require.Equal(t, in.SuccessURL, p.SuccessURL, "the placeholder is kept")
		require.Equal(t, in.CancelURL, p.CancelURL)
		require.NotEmpty(t, p.CustomerID)
		c, err := f.store.BillingCustomer(f.ctx, who.ProfileID, core.LineClientGallery)
		require.NoError(t, err)
		require.Equal(t, p.CustomerID, c.CustomerID)

		// The plan stays the free one until the payment completes.
		s, _ := f.sub(who.ProfileID, core.LineClientGallery)
		require.Equal(t, galleryFree, s.PlanID)

		again, err := f.svc.Checkout(f.ctx, who, billing.CheckoutInput{PlanID: galleryPro})
		require.NoError(t, err)
		p2, _ := f.payments.Params(again.SessionID)
		require.Equal(t, p.CustomerID, p2.CustomerID, "one customer per profile and line")
		require.Equal(t, 1, f.payments.Customers())
		require.Equal(t, base+"/dashboard?checkout=success&session_id={CHECKOUT_SESSION_ID}", p2.SuccessURL)
		require.Equal(t, base+"/dashboard?checkout=cancel", p2.CancelURL)

		// The drive line gets a customer of its own.
		d, err := f.svc.Checkout(f.ctx, session(who), billing.CheckoutInput{PlanID: drivePlus})
		require.NoError(t, err)
		pd, _ := f.payments.Params(d.SessionID)
		require.NotEqual(t, p.CustomerID, pd.CustomerID)
	})

	t.Run("refusals", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		who, _ := f.register("")
		for _, c := range []struct {
			name   string
			who    core.Principal
			in     billing.CheckoutInput
			kind   core.Kind
			detail string
		}{
			{"no_plan", who, billing.CheckoutInput{}, core.KindInvalid, "planId"},
			{"unknown_plan", who, billing.CheckoutInput{PlanID: "plan_nope"}, core.KindInvalid, "planId"},
			{"a_plan_of_another_line_than_the_key", who, billing.CheckoutInput{PlanID: drivePlus}, core.KindInvalid, "planId"},
			{"unknown_plan_with_a_session", session(who), billing.CheckoutInput{PlanID: "plan_nope"}, core.KindInvalid, "planId"},
			{"relative_success_url", who, billing.CheckoutInput{PlanID: galleryPro, SuccessURL: "/done"}, core.KindInvalid, "successUrl"},
			{"ftp_cancel_url", who, billing.CheckoutInput{PlanID: galleryPro, CancelURL: "ftp://x.example/"}, core.KindInvalid, "cancelUrl"},
			{"no_credential", core.Principal{ProfileID: who.ProfileID}, billing.CheckoutInput{PlanID: galleryPro}, core.KindUnauthenticated, ""},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := f.svc.Checkout(f.ctx, c.who, c.in)
				requireKind(t, err, c.kind, "", c.detail)
			})
		}
		require.Empty(t, f.payments.Sessions())
	})

	t.Run("a_plan_being_paid_for_is_changed_in_the_portal", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		who, _ := f.register("")
		r, err := f.svc.Checkout(f.ctx, who, billing.CheckoutInput{PlanID: galleryPro})
		require.NoError(t, err)
		f.pay(r.SessionID)
		_, err = f.svc.Checkout(f.ctx, who, billing.CheckoutInput{PlanID: galleryPro})
		requireKind(t, err, core.KindConflict, "already_subscribed", "")
		_, err = f.svc.Checkout(f.ctx, who, billing.CheckoutInput{PlanID: "plan_gallery_pro_annual"})
		requireKind(t, err, core.KindConflict, "subscription_active", "")
		_, err = f.svc.Checkout(f.ctx, who, billing.CheckoutInput{PlanID: galleryFree})
		requireKind(t, err, core.KindConflict, "paid_subscription_active", "")
	})

	t.Run("a_provider_failure_is_unavailable", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		who, _ := f.register("")
		f.payments.Fail = core.Unavailable("payments", errors.New("down"))
		_, err := f.svc.Checkout(f.ctx, who, billing.CheckoutInput{PlanID: galleryPro})
		requireKind(t, err, core.KindUnavailable, "", "")
	})
}

func TestRegistrationWithAPaidPlanOpensACheckout(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	who, r := f.register(galleryPro)
	require.True(t, r.RequiresPayment)
	require.Empty(t, r.CheckoutError)
	require.True(t, strings.HasPrefix(r.CheckoutURL, "https://checkout.example/pay/"), r.CheckoutURL)
	s, _ := f.sub(who.ProfileID, core.LineClientGallery)
	require.Equal(t, core.StatusIncomplete, s.Status)
	f.pay(strings.TrimPrefix(r.CheckoutURL, "https://checkout.example/pay/"))
	s, _ = f.sub(who.ProfileID, core.LineClientGallery)
	require.Equal(t, galleryPro, s.PlanID)
	require.Equal(t, core.StatusActive, s.Status)
	require.NotNil(t, s.CurrentPeriodEnd)
	require.Equal(t, start.AddDate(0, 1, 0), *s.CurrentPeriodEnd)
}

func TestPortalAndInvoices(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	who, _ := f.register("")
	_, err := f.svc.Portal(f.ctx, who, billing.PortalInput{ReturnURL: "https://app.example/account"})
	requireKind(t, err, core.KindConflict, "no_billing_customer", "")
	_, err = f.svc.Portal(f.ctx, who, billing.PortalInput{ReturnURL: "not a url"})
	requireKind(t, err, core.KindInvalid, "", "returnUrl")
	st, err := f.svc.Invoices(f.ctx, who, "")
	require.NoError(t, err)
	require.Empty(t, st.Invoices)
	require.Empty(t, st.Charges)

	r, err := f.svc.Checkout(f.ctx, who, billing.CheckoutInput{PlanID: galleryPro})
	require.NoError(t, err)
	f.pay(r.SessionID)
	u, err := f.svc.Portal(f.ctx, who, billing.PortalInput{ReturnURL: "https://app.example/account"})
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(u, "https://billing.example/portal/"), u)
	// The drive key has no customer yet; a session finds the gallery's.
	drv := who
	drv.Line = core.LineDrive
	_, err = f.svc.Portal(f.ctx, drv, billing.PortalInput{})
	requireKind(t, err, core.KindConflict, "no_billing_customer", "")
	_, err = f.svc.Portal(f.ctx, session(who), billing.PortalInput{})
	require.NoError(t, err)
	_, err = f.svc.Portal(f.ctx, session(who), billing.PortalInput{Product: "drive"})
	requireKind(t, err, core.KindConflict, "no_billing_customer", "")
	_, err = f.svc.Portal(f.ctx, session(who), billing.PortalInput{Product: "nope"})
	requireKind(t, err, core.KindInvalid, "", "product")

	st, err = f.svc.Invoices(f.ctx, who, "")
	require.NoError(t, err)
	require.Len(t, st.Invoices, 1)
	require.Equal(t, "paid", st.Invoices[0].Status)
	require.Equal(t, int64(1500), st.Invoices[0].AmountPaid)
	require.Len(t, st.Charges, 1)
	st, err = f.svc.Invoices(f.ctx, drv, "")
	require.NoError(t, err)
	require.Empty(t, st.Invoices)
}

func TestSyncCatalog(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	who, _ := f.register("")
	_, err := f.svc.SyncCatalog(f.ctx, session(who))
	requireKind(t, err, core.KindForbidden, "", "")
	_, err = f.svc.SyncCatalog(f.ctx, who)
	requireKind(t, err, core.KindForbidden, "", "")
	admin := session(who)
	admin.IsAdmin = true
	synced, err := f.svc.SyncCatalog(f.ctx, admin)
	require.NoError(t, err)
	require.Len(t, synced, 6, "every active paid plan")
	for _, s := range synced {
		require.True(t, s.Changed)
		require.True(t, strings.HasPrefix(s.Plan.StripePriceID, "price_test_"), s.Plan.StripePriceID)
		stored, err := f.store.PlanByID(f.ctx, s.Plan.ID)
		require.NoError(t, err)
		require.Equal(t, s.Plan.StripePriceID, stored.StripePriceID)
	}
	again, err := f.svc.SyncCatalog(f.ctx, admin)
	require.NoError(t, err)
	for i, s := range again {
		require.False(t, s.Changed, "idempotent")
		require.Equal(t, synced[i].Plan.StripePriceID, s.Plan.StripePriceID)
	}
	require.Equal(t, 6, f.payments.Prices())
}
