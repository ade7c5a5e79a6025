package httpapi

import (
	"bytes"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/adapters/stripe/stripetest"
	"github.com/gellhub/gellhub/core"
)

// The register → checkout → webhook → status path, end to end through the
// API: on testkit's provider with signed Stripe events, on the embedded
// default's simulated pages (localbilling), and on the Stripe adapter
// against stripe-mock.

func TestRegisterCheckoutWebhookStatus(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		adminEmail := uniqueEmail("admin")
		s := newTestServer(t, backend, options{payments: true, admins: []string{adminEmail}})
		admin := s.register(adminEmail)
		// The free gallery plan, the fallback after a cancellation, holds
		// 4 KiB here: a downgrade below the usage is then easy to reach.
		r := s.do("PATCH", "/api/admin/plans/plan_gallery_free", map[string]any{"storageLimitBytes": 4096}, withSession(admin.session))
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)

		email := uniqueEmail("payer")
		reg := s.do("POST", "/api/register", map[string]any{
			"email": email, "password": "long enough pw", "displayName": "Payer", "accountType": "studio",
			"planId": "plan_gallery_pro_monthly", "successUrl": "https://app.example/done?sid={CHECKOUT_SESSION_ID}",
		})
		require.Equal(t, http.StatusCreated, reg.status, "body: %s", reg.body)
		m := reg.json(t)
		require.Equal(t, true, m["requiresPayment"])
		require.NotContains(t, m, "checkoutError")
		checkout := m["checkoutUrl"].(string)
		require.True(t, strings.HasPrefix(checkout, checkoutPrefix), checkout)
		sessionID := strings.TrimPrefix(checkout, checkoutPrefix)
		key := withKey(m["apiKey"].(string))
		p, err := s.payments.Params(sessionID)
		require.NoError(t, err)
		require.Equal(t, "https://app.example/done?sid={CHECKOUT_SESSION_ID}", p.SuccessURL)
		require.Equal(t, "plan_gallery_pro_monthly", p.Plan.ID)

		st := s.status(m["apiKey"].(string))
		require.Equal(t, "incomplete", st["stripeStatus"])
		colID := s.createCollection(key, "Shoot")
		s.proxyUpload(key, colID, "early.jpg", []byte("tiny")).requireError(t, http.StatusPaymentRequired, "subscription_required", "")

		require.NoError(t, s.payments.Complete(sessionID))
		s.deliver(s.checkoutCompleted("evt_e2e_paid", sessionID))
		st = s.status(m["apiKey"].(string))
		require.Equal(t, "active", st["stripeStatus"])
		require.Equal(t, map[string]any{"id": "plan_gallery_pro_monthly", "name": "Gallery Pro", "price": 15.0}, st["plan"])
		require.Equal(t, "2026-12-30T12:00:00Z", st["currentPeriodEnd"])
		storage := s.do("GET", "/api/studio/storage", nil, key).json(t)
		require.Equal(t, float64(500<<30), storage["limitBytes"], "the limit follows the plan in force")

		up := s.proxyUpload(key, colID, "big.jpg", bytes.Repeat([]byte("x"), 8192))
		require.Equal(t, http.StatusCreated, up.status, "body: %s", up.body)

		// Cancelled in the portal: the line falls back to the free plan.
		provider, err := s.payments.CheckoutSession(t.Context(), sessionID)
		require.NoError(t, err)
		_, err = s.payments.UpdateSubscription(provider.SubscriptionID, func(p *core.ProviderSubscription) { p.Status = core.StatusCanceled })
		require.NoError(t, err)
		s.deliver(subscriptionEvent("evt_e2e_cancel", core.EventSubscriptionDeleted, provider.SubscriptionID))
		st = s.status(m["apiKey"].(string))
		require.Equal(t, "plan_gallery_free", st["plan"].(map[string]any)["id"])

		t.Run("a_downgrade_below_usage_deletes_nothing_and_blocks_new_uploads", func(t *testing.T) {
			storage := s.do("GET", "/api/studio/storage", nil, key).json(t)
			require.Equal(t, 8192.0, storage["usedBytes"])
			require.Equal(t, 4096.0, storage["limitBytes"])
			files := s.do("GET", "/api/collections/"+colID+"/files", nil, key)
			require.Equal(t, http.StatusOK, files.status, "body: %s", files.body)
			require.Len(t, files.list(t), 1)
			s.proxyUpload(key, colID, "more.jpg", []byte("tiny")).requireError(t, http.StatusRequestEntityTooLarge, "quota_exceeded", "")
		})
	})

	t.Run("a_failed_checkout_at_registration_says_to_retry_with_the_key", func(t *testing.T) {
		t.Parallel()
		s := newTestServer(t, "memory", options{payments: true})
		s.payments.Fail = core.Unavailable("payments", nil)
		reg := s.do("POST", "/api/register", map[string]any{
			"email": uniqueEmail("fail"), "password": "long enough pw", "displayName": "F", "accountType": "drive", "planId": "plan_drive_plus_monthly",
		})
		require.Equal(t, http.StatusCreated, reg.status, "body: %s", reg.body)
		m := reg.json(t)
		require.Equal(t, true, m["requiresPayment"])
		require.NotContains(t, m, "checkoutUrl")
		require.Contains(t, m["checkoutError"], "retry POST /api/billing/checkout-session with your API key")
		s.payments.Fail = nil
		r := s.do("POST", "/api/billing/checkout-session", map[string]any{"planId": "plan_drive_plus_monthly"}, withKey(m["driveApiKey"].(string)))
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		require.True(t, strings.HasPrefix(r.json(t)["url"].(string), checkoutPrefix))
	})
}

var formToken = regexp.MustCompile(`name="token" value="([^"]+)"`)

// localPage GETs a simulated page by its absolute URL and returns the
// reply and its form token.
func (s *testServer) localPage(pageURL string) (reply, string) {
	s.t.Helper()
	u, err := url.Parse(pageURL)
	require.NoError(s.t, err)
	r := s.do("GET", u.Path, nil)
	require.Equal(s.t, http.StatusOK, r.status, "body: %s", r.body)
	require.Equal(s.t, "text/html; charset=utf-8", r.header.Get("Content-Type"))
	m := formToken.FindSubmatch(r.body)
	require.NotNil(s.t, m, "no form token in %s", r.body)
	return r, string(m[1])
}

// submit posts a simulated page's form as a browser on the page would.
func (s *testServer) submit(path string, form url.Values, opts ...reqOpt) reply {
	s.t.Helper()
	opts = append([]reqOpt{withHeader("Sec-Fetch-Site", "same-origin")}, opts...)
	return s.rawDo("POST", path, "application/x-www-form-urlencoded", []byte(form.Encode()), opts...)
}

func TestLocalBillingEndToEnd(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		s := newTestServer(t, backend, options{billing: "local"})
		email := uniqueEmail("local")
		reg := s.do("POST", "/api/register", map[string]any{
			"email": email, "password": "long enough pw", "displayName": "Local", "accountType": "drive",
			"planId": "plan_drive_plus_monthly", "successUrl": "https://app.example/done?sid={CHECKOUT_SESSION_ID}",
		})
		require.Equal(t, http.StatusCreated, reg.status, "body: %s", reg.body)
		m := reg.json(t)
		driveKey := m["driveApiKey"].(string)
		checkout := m["checkoutUrl"].(string)
		require.True(t, strings.HasPrefix(checkout, "http://127.0.0.1:8080/billing/local/checkout/cs_local_"), checkout)
		path := strings.TrimPrefix(checkout, "http://127.0.0.1:8080")
		sessionID := strings.TrimPrefix(path, "/billing/local/checkout/")
		require.Equal(t, "incomplete", s.status(driveKey)["stripeStatus"])

		page, token := s.localPage(checkout)
		require.Contains(t, string(page.body), "Simulated payment")
		require.Contains(t, string(page.body), "Drive Plus")
		require.Contains(t, page.header.Get("Content-Security-Policy"), "form-action 'self' https://app.example")
		require.Equal(t, "no-store", page.header.Get("Cache-Control"))

		t.Run("a_forged_or_cross_site_payment_is_refused_and_changes_nothing", func(t *testing.T) {
			requireHTMLError(t, s.submit(path, url.Values{"token": {"forged"}, "action": {"pay"}}), http.StatusForbidden)
			// crossOriginProtection answers before the page does: JSON.
			s.submit(path, url.Values{"token": {token}, "action": {"pay"}}, withHeader("Sec-Fetch-Site", "cross-site")).
				requireError(t, http.StatusForbidden, "forbidden", "")
			requireHTMLError(t, s.submit(path, url.Values{"token": {token}, "action": {"refund"}}), http.StatusBadRequest)
			requireHTMLError(t, s.submit(path, url.Values{"token": {token, token}, "action": {"pay"}}), http.StatusBadRequest)
			require.Equal(t, "incomplete", s.status(driveKey)["stripeStatus"])
		})

		pay := s.submit(path, url.Values{"token": {token}, "action": {"pay"}})
		require.Equal(t, http.StatusSeeOther, pay.status, "body: %s", pay.body)
		require.Equal(t, "https://app.example/done?sid="+sessionID, pay.header.Get("Location"))
		st := s.status(driveKey)
		require.Equal(t, "active", st["stripeStatus"])
		require.Equal(t, "plan_drive_plus_monthly", st["plan"].(map[string]any)["id"])
		require.Equal(t, "2026-12-30T12:00:00Z", st["currentPeriodEnd"])

		t.Run("paying_twice_applies_once", func(t *testing.T) {
			again := s.submit(path, url.Values{"token": {token}, "action": {"pay"}})
			require.Equal(t, http.StatusSeeOther, again.status, "body: %s", again.body)
			inv := s.do("GET", "/api/billing/invoices", nil, withKey(driveKey)).json(t)
			require.Len(t, inv["invoices"].([]any), 1)
			first := inv["invoices"].([]any)[0].(map[string]any)
			require.Equal(t, 999.0, first["amountPaid"])
			require.Equal(t, "paid", first["status"])
		})

		t.Run("the_portal_cancels_and_the_line_falls_back_to_free", func(t *testing.T) {
			r := s.do("POST", "/api/billing/portal", map[string]any{"returnUrl": "https://app.example/account"}, withKey(driveKey))
			require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
			portalURL := r.json(t)["url"].(string)
			require.True(t, strings.HasPrefix(portalURL, "http://127.0.0.1:8080/billing/local/portal/bps_local_"), portalURL)
			page, token := s.localPage(portalURL)
			require.Contains(t, string(page.body), "Drive Plus")
			require.Contains(t, string(page.body), `href="https://app.example/account"`)
			subID := regexp.MustCompile(`name="subscriptionId" value="([^"]+)"`).FindSubmatch(page.body)
			require.NotNil(t, subID)
			portalPath := strings.TrimPrefix(portalURL, "http://127.0.0.1:8080")
			requireHTMLError(t, s.submit(portalPath, url.Values{"token": {"forged"}, "subscriptionId": {string(subID[1])}}), http.StatusForbidden)
			requireHTMLError(t, s.submit(portalPath, url.Values{"token": {token}, "subscriptionId": {"sub_local_nope"}}), http.StatusNotFound)
			c := s.submit(portalPath, url.Values{"token": {token}, "subscriptionId": {string(subID[1])}})
			require.Equal(t, http.StatusSeeOther, c.status, "body: %s", c.body)
			require.Equal(t, portalPath, c.header.Get("Location"))
			st := s.status(driveKey)
			require.Equal(t, "plan_drive_free", st["plan"].(map[string]any)["id"])
			require.Equal(t, "active", st["stripeStatus"])
			after := s.do("GET", portalPath, nil)
			require.Equal(t, http.StatusOK, after.status)
			require.Contains(t, string(after.body), "canceled")
			require.NotContains(t, string(after.body), "Cancel subscription", "an ended subscription has no cancel form")
		})

		t.Run("a_cancelled_checkout_returns_to_the_cancel_url", func(t *testing.T) {
			r := s.do("POST", "/api/billing/checkout-session", map[string]any{"planId": "plan_drive_plus_annual", "cancelUrl": "https://app.example/cancel"}, withKey(driveKey))
			require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
			u := r.json(t)["url"].(string)
			_, tok := s.localPage(u)
			p := strings.TrimPrefix(u, "http://127.0.0.1:8080")
			c := s.submit(p, url.Values{"token": {tok}, "action": {"cancel"}})
			require.Equal(t, http.StatusSeeOther, c.status, "body: %s", c.body)
			require.Equal(t, "https://app.example/cancel", c.header.Get("Location"))
			requireHTMLError(t, s.submit(p, url.Values{"token": {tok}, "action": {"pay"}}), http.StatusConflict)
			require.Equal(t, "plan_drive_free", s.status(driveKey)["plan"].(map[string]any)["id"])
		})

		t.Run("unknown_pages_are_404_and_there_is_no_webhook", func(t *testing.T) {
			requireHTMLError(t, s.do("GET", "/billing/local/checkout/cs_local_nope", nil), http.StatusNotFound)
			requireHTMLError(t, s.do("GET", "/billing/local/checkout/bad%20id", nil), http.StatusNotFound)
			requireHTMLError(t, s.do("GET", "/billing/local/portal/bps_local_nope", nil), http.StatusNotFound)
			body := []byte(`{}`)
			s.webhook(body, stripetest.Sign(body, time.Now(), testWebhookSecret)).requireError(t, http.StatusNotFound, "not_found", "")
		})
	})

	t.Run("with_a_real_provider_the_simulated_pages_are_404", func(t *testing.T) {
		t.Parallel()
		s := newTestServer(t, "memory", options{payments: true})
		requireHTMLError(t, s.do("GET", "/billing/local/checkout/cs_local_x", nil), http.StatusNotFound)
		requireHTMLError(t, s.submit("/billing/local/portal/bps_local_x", url.Values{"token": {"x"}}), http.StatusNotFound)
	})
}

func TestConnectPaidPlanThroughLocalBilling(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, "sqlite", options{billing: "local"})
	app := s.createApp("drive", callback)
	flow, r := s.startFlow(url.Values{"client_id": {app.clientID}, "return_url": {callback}, "state": {"local"}, "plan": {"plan_drive_plus_monthly"}})
	require.Equal(t, http.StatusFound, r.status, "body: %s", r.body)
	cookie := withCookie(ConnectCookie, flow)
	reg := s.do("POST", "/api/register", map[string]any{
		"email": uniqueEmail("conn"), "password": "long enough pw", "displayName": "C", "accountType": "drive", "planId": "plan_drive_plus_monthly",
	}, cookie)
	require.Equal(t, http.StatusCreated, reg.status, "body: %s", reg.body)
	m := reg.json(t)
	checkout := m["checkoutUrl"].(string)
	_, token := s.localPage(checkout)
	pay := s.submit(strings.TrimPrefix(checkout, "http://127.0.0.1:8080"), url.Values{"token": {token}, "action": {"pay"}})
	require.Equal(t, http.StatusSeeOther, pay.status, "body: %s", pay.body)
	loc, err := url.Parse(pay.header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, "/integrations/connect/stripe-return", loc.Path)

	back := s.do("GET", loc.RequestURI(), nil, cookie)
	require.Equal(t, http.StatusFound, back.status, "body: %s", back.body)
	code, state, _ := codeOf(t, back.header.Get("Location"))
	require.Equal(t, "local", state)
	ex := s.exchangeCode(app.clientID, app.secret, code)
	require.Equal(t, http.StatusOK, ex.status, "body: %s", ex.body)
	require.Equal(t, "active", s.status(ex.json(t)["driveApiKey"].(string))["stripeStatus"])
}

func TestStripeMockEndToEnd(t *testing.T) {
	t.Parallel()
	adminEmail := uniqueEmail("admin")
	s := newTestServer(t, "sqlite", options{billing: "stripe-mock", admins: []string{adminEmail}})
	admin := s.register(adminEmail)
	a := s.register(uniqueEmail("stripe"))

	s.do("POST", "/api/admin/plans/sync-stripe", nil, withSession(a.session)).requireError(t, http.StatusForbidden, "forbidden", "")
	r := s.do("POST", "/api/admin/plans/sync-stripe", nil, withSession(admin.session))
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	synced := r.json(t)["plans"].([]any)
	require.Len(t, synced, 6, "every active paid plan")
	for _, p := range synced {
		pm := p.(map[string]any)
		require.True(t, strings.HasPrefix(pm["stripePriceId"].(string), "price_"), "%v", pm)
		require.Equal(t, true, pm["changed"])
	}

	// stripe-mock answers fixtures: its subscription belongs to a fixed
	// customer with a fixed price. Map them as an existing Stripe account
	// would be: the customer is the profile's, the price Gallery Pro's.
	fixture, err := s.billing.Payments().Subscription(t.Context(), "sub_e2e")
	require.NoError(t, err)
	_, err = s.store.SaveBillingCustomer(t.Context(), core.BillingCustomer{
		ProfileID: a.profileID, Line: core.LineClientGallery, CustomerID: fixture.CustomerID, CreatedAt: s.clock.Now(),
	})
	require.NoError(t, err)
	r = s.do("PATCH", "/api/admin/plans/plan_gallery_pro_monthly", map[string]any{"stripePriceId": fixture.PriceID}, withSession(admin.session))
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)

	r = s.do("POST", "/api/billing/checkout-session", map[string]any{"planId": "plan_gallery_pro_monthly"}, withKey(a.apiKey))
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	require.True(t, strings.HasPrefix(r.json(t)["url"].(string), "https://checkout.stripe.com/"), "body: %s", r.body)

	ev := stripetest.Event("evt_mock_1", core.EventCheckoutCompleted, time.Now(), map[string]any{
		"id": "cs_test_e2e", "object": "checkout.session", "customer": fixture.CustomerID, "subscription": "sub_e2e",
	})
	s.deliver(ev)
	st := s.status(a.apiKey)
	require.Equal(t, "active", st["stripeStatus"], "the fixture subscription is active")
	require.Equal(t, "plan_gallery_pro_monthly", st["plan"].(map[string]any)["id"])
	// stripe-mock's fixtures follow a newer API version that moved the
	// period end onto the items: the pinned version's field is absent.
	require.Nil(t, st["currentPeriodEnd"])

	inv := s.do("GET", "/api/billing/invoices", nil, withKey(a.apiKey))
	require.Equal(t, http.StatusOK, inv.status, "body: %s", inv.body)
	list := inv.json(t)["invoices"].([]any)
	require.NotEmpty(t, list)
	require.True(t, strings.HasPrefix(list[0].(map[string]any)["id"].(string), "in_"))
	portal := s.do("POST", "/api/billing/portal", map[string]any{"returnUrl": "https://app.example/account"}, withKey(a.apiKey))
	require.Equal(t, http.StatusOK, portal.status, "body: %s", portal.body)
	require.NotEmpty(t, portal.json(t)["url"])
	// A bad signature changes nothing, on the real adapter too.
	s.webhook(ev, stripetest.Sign(ev, time.Now(), "whsec_wrong")).requireError(t, http.StatusBadRequest, "invalid_request", "Stripe-Signature")
}

// TestStripeReturnAppliesThePaymentAtOnce: the partner's exchange right
// after stripe-return sees the paid plan even before Stripe's webhook.
func TestStripeReturnAppliesThePaymentAtOnce(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, "sqlite", options{payments: true})
	app := s.createApp("clientGallery", callback)
	flow, r := s.startFlow(url.Values{"client_id": {app.clientID}, "return_url": {callback}, "state": {"s"}, "plan": {"plan_gallery_pro_monthly"}})
	require.Equal(t, http.StatusFound, r.status, "body: %s", r.body)
	cookie := withCookie(ConnectCookie, flow)
	reg := s.do("POST", "/api/register", map[string]any{
		"email": uniqueEmail("ret"), "password": "long enough pw", "displayName": "R", "accountType": "studio", "planId": "plan_gallery_pro_monthly",
	}, cookie)
	require.Equal(t, http.StatusCreated, reg.status, "body: %s", reg.body)
	m := reg.json(t)
	sessionID := strings.TrimPrefix(m["checkoutUrl"].(string), checkoutPrefix)
	require.NoError(t, s.payments.Complete(sessionID)) // no webhook delivered
	back := s.stripeReturn(sessionID, cookie)
	require.Equal(t, http.StatusFound, back.status, "body: %s", back.body)
	code, _, _ := codeOf(t, back.header.Get("Location"))
	ex := s.exchangeCode(app.clientID, app.secret, code)
	require.Equal(t, http.StatusOK, ex.status, "body: %s", ex.body)
	require.Equal(t, "active", ex.json(t)["plan"].(map[string]any)["stripeStatus"])
	require.Equal(t, "active", s.status(m["apiKey"].(string))["stripeStatus"])
	// Stripe's own event for the session applies the same state once more.
	s.deliver(s.checkoutCompleted("evt_ret", sessionID))
	require.Equal(t, "active", s.status(m["apiKey"].(string))["stripeStatus"])
}

// TestAccessLogRedactsSimulatedPageIDs: the ids of the simulated checkout
// and portal pages are capabilities (they pay, or cancel subscriptions):
// the access log shows their paths with "{id}" instead.
func TestAccessLogRedactsSimulatedPageIDs(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, "memory", options{billing: "local"})
	reg := s.do("POST", "/api/register", map[string]any{
		"email": uniqueEmail("redact"), "password": "long enough pw", "displayName": "R", "accountType": "drive", "planId": "plan_drive_plus_monthly",
	})
	require.Equal(t, http.StatusCreated, reg.status, "body: %s", reg.body)
	m := reg.json(t)
	checkout := m["checkoutUrl"].(string)
	checkoutPath := strings.TrimPrefix(checkout, "http://127.0.0.1:8080")
	checkoutID := strings.TrimPrefix(checkoutPath, "/billing/local/checkout/")
	_, token := s.localPage(checkout)
	requireHTMLError(t, s.submit(checkoutPath, url.Values{"token": {"forged"}, "action": {"pay"}}), http.StatusForbidden)
	pay := s.submit(checkoutPath, url.Values{"token": {token}, "action": {"pay"}})
	require.Equal(t, http.StatusSeeOther, pay.status, "body: %s", pay.body)

	r := s.do("POST", "/api/billing/portal", map[string]any{"returnUrl": "https://app.example/account"}, withKey(m["driveApiKey"].(string)))
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	portal := r.json(t)["url"].(string)
	portalPath := strings.TrimPrefix(portal, "http://127.0.0.1:8080")
	portalID := strings.TrimPrefix(portalPath, "/billing/local/portal/")
	page, portalToken := s.localPage(portal)
	subID := regexp.MustCompile(`name="subscriptionId" value="([^"]+)"`).FindSubmatch(page.body)
	require.NotNil(t, subID)
	c := s.submit(portalPath, url.Values{"token": {portalToken}, "subscriptionId": {string(subID[1])}})
	require.Equal(t, http.StatusSeeOther, c.status, "body: %s", c.body)
	// Variant spellings routing refuses are redacted all the same.
	s.do("GET", "/BILLING/Local/portal/"+portalID, nil)
	s.do("GET", "/billing//local/checkout/"+checkoutID+"/x", nil)

	logs := s.logs.String()
	require.Contains(t, logs, `"path":"/billing/local/checkout/{id}"`)
	require.Contains(t, logs, `"path":"/billing/local/portal/{id}"`)
	require.Contains(t, logs, `"path":"/billing//local/checkout/{id}/x"`)
	for _, id := range []string{checkoutID, portalID, token, portalToken} {
		require.NotEmpty(t, id)
		require.NotContains(t, logs, id)
	}
}

func TestLoggedPath(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"/billing/local/checkout/cs_local_abc":  "/billing/local/checkout/{id}",
		"/billing/local/portal/bps_local_abc":   "/billing/local/portal/{id}",
		"/billing/local/portal/bps_local_abc/":  "/billing/local/portal/{id}/",
		"/Billing/LOCAL/Checkout/cs_local_abc":  "/Billing/LOCAL/Checkout/{id}",
		"/api/billing/local/portal/x/y":         "/api/billing/local/portal/{id}/y",
		"/billing/local/checkout/":              "/billing/local/checkout/",
		"/api/billing/status":                   "/api/billing/status",
		"/api/drive/items/drv_abc":              "/api/drive/items/drv_abc",
		"/integrations/connect/stripe-return":   "/integrations/connect/stripe-return",
		"/billing/local/checkoutx/cs_local_abc": "/billing/local/checkoutx/cs_local_abc",
	} {
		require.Equal(t, want, loggedPath(in), in)
	}
}
