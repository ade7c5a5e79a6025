package stripe_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/adapters/stripe"
	"github.com/gellhub/gellhub/adapters/stripe/stripetest"
	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// recorded is one request the adapter sent.
type recorded struct {
	method, path string
	form         url.Values
	header       http.Header
}

// recorder is an http.RoundTripper that keeps every request.
type recorder struct {
	mu   sync.Mutex
	reqs []recorded
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	form, _ := url.ParseQuery(string(body))
	if req.Method == http.MethodGet {
		form = req.URL.Query()
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, recorded{method: req.Method, path: req.URL.Path, form: form, header: req.Header.Clone()})
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

// last returns the last request to method and path.
func (r *recorder) last(t *testing.T, method, path string) recorded {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.reqs) - 1; i >= 0; i-- {
		if r.reqs[i].method == method && r.reqs[i].path == path {
			return r.reqs[i]
		}
	}
	t.Fatalf("no %s %s among %d requests", method, path, len(r.reqs))
	return recorded{}
}

func (r *recorder) count(method, path string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, q := range r.reqs {
		if q.method == method && q.path == path {
			n++
		}
	}
	return n
}

func newMocked(t *testing.T) (*stripe.Payments, *recorder) {
	t.Helper()
	base := stripetest.Start(t)
	rec := &recorder{}
	p, err := stripe.New(stripe.Config{SecretKey: stripetest.SecretKey, APIBase: base, HTTPClient: &http.Client{Transport: rec}, MaxNetworkRetries: -1})
	require.NoError(t, err)
	return p, rec
}

var proPlan = core.Plan{
	ID: "plan_gallery_pro_monthly", Line: core.LineClientGallery, Name: "Gallery Pro", Description: "For working photographers.",
	PriceMinor: 1500, Currency: "usd", BillingPeriod: core.PeriodMonthly, StripePriceID: "price_123",
}

func TestPaymentsOnStripeMock(t *testing.T) {
	t.Parallel()
	p, rec := newMocked(t)
	ctx := context.Background()

	t.Run("checkout_session_is_a_subscription_of_the_plans_price", func(t *testing.T) {
		cs, err := p.CreateCheckoutSession(ctx, ports.CheckoutParams{
			ProfileID: "prof_1", Email: "a@example.com", Line: core.LineClientGallery, Plan: proPlan,
			SuccessURL: "https://app.example/done?sid={CHECKOUT_SESSION_ID}", CancelURL: "https://app.example/cancel",
			Reference: "ref_1", CustomerID: "cus_1",
		})
		require.NoError(t, err)
		require.NotEmpty(t, cs.ID)
		require.NotEmpty(t, cs.URL)
		require.Equal(t, core.CheckoutOpen, cs.Status)
		require.Equal(t, "ref_1", cs.Reference)
		r := rec.last(t, "POST", "/v1/checkout/sessions")
		require.Equal(t, "subscription", r.form.Get("mode"))
		require.Equal(t, "price_123", r.form.Get("line_items[0][price]"))
		require.Equal(t, "1", r.form.Get("line_items[0][quantity]"))
		require.Equal(t, "https://app.example/done?sid={CHECKOUT_SESSION_ID}", r.form.Get("success_url"), "the placeholder is kept for Stripe")
		require.Equal(t, "https://app.example/cancel", r.form.Get("cancel_url"))
		require.Equal(t, "cus_1", r.form.Get("customer"))
		require.Empty(t, r.form.Get("customer_email"), "a customer and an email are exclusive")
		require.Equal(t, "ref_1", r.form.Get("client_reference_id"))
		for _, prefix := range []string{"metadata", "subscription_data[metadata]"} {
			require.Equal(t, "prof_1", r.form.Get(prefix+"["+stripe.MetaProfileID+"]"))
			require.Equal(t, "clientGallery", r.form.Get(prefix+"["+stripe.MetaLine+"]"))
			require.Equal(t, proPlan.ID, r.form.Get(prefix+"["+stripe.MetaPlanID+"]"))
		}
		require.Equal(t, stripe.APIVersion, r.header.Get("Stripe-Version"))
		require.Equal(t, "Bearer "+stripetest.SecretKey, r.header.Get("Authorization"))
	})

	t.Run("a_plan_without_a_price_is_plan_not_synced_and_sends_nothing", func(t *testing.T) {
		before := rec.count("POST", "/v1/checkout/sessions")
		plan := proPlan
		plan.StripePriceID = ""
		_, err := p.CreateCheckoutSession(ctx, ports.CheckoutParams{ProfileID: "prof_1", Plan: plan, SuccessURL: "https://x.example/"})
		e, ok := core.AsError(err)
		require.True(t, ok, "%v", err)
		require.Equal(t, core.KindConflict, e.Kind)
		require.Equal(t, "plan_not_synced", e.Code)
		require.Equal(t, before, rec.count("POST", "/v1/checkout/sessions"))
	})

	t.Run("retrieves_a_checkout_session", func(t *testing.T) {
		cs, err := p.CheckoutSession(ctx, "cs_test_abc")
		require.NoError(t, err)
		require.Equal(t, "cs_test_abc", cs.ID)
		rec.last(t, "GET", "/v1/checkout/sessions/cs_test_abc")
	})

	t.Run("customer_per_profile_and_line_is_idempotent", func(t *testing.T) {
		id, err := p.EnsureCustomer(ctx, ports.CustomerParams{ProfileID: "prof_1", Email: "a@example.com", Line: core.LineDrive})
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(id, "cus_"), id)
		r := rec.last(t, "POST", "/v1/customers")
		require.Equal(t, "a@example.com", r.form.Get("email"))
		require.Equal(t, "prof_1", r.form.Get("metadata["+stripe.MetaProfileID+"]"))
		require.Equal(t, "drive", r.form.Get("metadata["+stripe.MetaLine+"]"))
		require.Equal(t, "gellhub-customer-prof_1-drive", r.header.Get("Idempotency-Key"))
	})

	t.Run("portal_session", func(t *testing.T) {
		u, err := p.PortalSession(ctx, "cus_1", "https://app.example/account")
		require.NoError(t, err)
		require.NotEmpty(t, u)
		r := rec.last(t, "POST", "/v1/billing_portal/sessions")
		require.Equal(t, "cus_1", r.form.Get("customer"))
		require.Equal(t, "https://app.example/account", r.form.Get("return_url"))
	})

	t.Run("invoices_and_charges_of_the_customer", func(t *testing.T) {
		inv, err := p.Invoices(ctx, "cus_1", 10)
		require.NoError(t, err)
		require.NotEmpty(t, inv)
		require.NotEmpty(t, inv[0].ID)
		require.Equal(t, "usd", inv[0].Currency)
		require.False(t, inv[0].Created.IsZero())
		r := rec.last(t, "GET", "/v1/invoices")
		require.Equal(t, "cus_1", r.form.Get("customer"))
		require.Equal(t, "10", r.form.Get("limit"))
		ch, err := p.Charges(ctx, "cus_1", 10)
		require.NoError(t, err)
		require.NotEmpty(t, ch)
		require.Equal(t, "succeeded", ch[0].Status)
		require.Equal(t, "cus_1", rec.last(t, "GET", "/v1/charges").form.Get("customer"))
	})

	t.Run("retrieves_a_subscription", func(t *testing.T) {
		sub, err := p.Subscription(ctx, "sub_abc")
		require.NoError(t, err)
		require.Equal(t, "sub_abc", sub.ID)
		require.Equal(t, core.StatusActive, sub.Status)
		require.NotEmpty(t, sub.CustomerID)
		require.NotEmpty(t, sub.PriceID, "the price of its first item")
		rec.last(t, "GET", "/v1/subscriptions/sub_abc")
	})

	t.Run("sync_plan_price_keeps_the_product_and_creates_the_price_by_lookup_key", func(t *testing.T) {
		id, err := p.SyncPlanPrice(ctx, proPlan)
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(id, "price_"), id)
		rec.last(t, "GET", "/v1/products/"+stripe.ProductID(proPlan))
		list := rec.last(t, "GET", "/v1/prices")
		require.Equal(t, stripe.LookupKey(proPlan), list.form.Get("lookup_keys[0]"))
		require.Equal(t, "true", list.form.Get("active"))
		// stripe-mock's fixture price has another amount: a price is created.
		r := rec.last(t, "POST", "/v1/prices")
		require.Equal(t, stripe.ProductID(proPlan), r.form.Get("product"))
		require.Equal(t, "1500", r.form.Get("unit_amount"))
		require.Equal(t, "usd", r.form.Get("currency"))
		require.Equal(t, "month", r.form.Get("recurring[interval]"))
		require.Equal(t, stripe.LookupKey(proPlan), r.form.Get("lookup_key"))
		require.Equal(t, "true", r.form.Get("transfer_lookup_key"))
		require.Equal(t, "gellhub-price-"+stripe.LookupKey(proPlan), r.header.Get("Idempotency-Key"))
		// The fixture product has another name: it is brought in step.
		u := rec.last(t, "POST", "/v1/products/"+stripe.ProductID(proPlan))
		require.Equal(t, "Gallery Pro", u.form.Get("name"))
		annual := proPlan
		annual.BillingPeriod = core.PeriodAnnual
		_, err = p.SyncPlanPrice(ctx, annual)
		require.NoError(t, err)
		require.Equal(t, "year", rec.last(t, "POST", "/v1/prices").form.Get("recurring[interval]"))
	})
}

// fakeStripe answers every request with status and a Stripe error body.
func fakeStripe(t *testing.T, status int, typ, code string) *stripe.Payments {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"error":{"type":"`+typ+`","code":"`+code+`","message":"nope"}}`)
	}))
	t.Cleanup(srv.Close)
	p, err := stripe.New(stripe.Config{SecretKey: "sk_test_x", APIBase: srv.URL, MaxNetworkRetries: -1})
	require.NoError(t, err)
	return p
}

func TestErrorsAreTranslatedByStatusAndType(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cases := []struct {
		name   string
		status int
		typ    string
		code   string
		want   core.Kind
	}{
		{"missing_is_not_found", 404, "invalid_request_error", "resource_missing", core.KindNotFound},
		{"rate_limited_is_unavailable", 429, "invalid_request_error", "rate_limit", core.KindUnavailable},
		{"outage_is_unavailable", 500, "api_error", "", core.KindUnavailable},
		{"bad_key_is_internal", 401, "invalid_request_error", "", core.KindInternal},
		{"rejected_request_is_internal", 400, "invalid_request_error", "parameter_invalid_empty", core.KindInternal},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := fakeStripe(t, c.status, c.typ, c.code).Subscription(ctx, "sub_1")
			require.Equal(t, c.want, core.ErrorKind(err), "%v", err)
			require.NotContains(t, err.Error(), "sk_test_x")
		})
	}
	t.Run("unreachable_is_unavailable", func(t *testing.T) {
		t.Parallel()
		p, err := stripe.New(stripe.Config{SecretKey: "sk_test_x", APIBase: "http://127.0.0.1:1", MaxNetworkRetries: -1})
		require.NoError(t, err)
		_, err = p.Subscription(ctx, "sub_1")
		require.Equal(t, core.KindUnavailable, core.ErrorKind(err), "%v", err)
	})
}
