package main

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/adapters/stripe/stripetest"
)

// form posts an urlencoded form without following the redirect.
func (c *client) form(path string, v url.Values) *http.Response {
	c.t.Helper()
	hc := *c.http
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := hc.PostForm(c.base+path, v)
	require.NoError(c.t, err)
	_ = res.Body.Close()
	return res
}

var tokenField = regexp.MustCompile(`name="token" value="([^"]+)"`)

// TestEmbeddedDefaultSimulatesPayments runs the real program without Stripe:
// a paid registration's checkout is the built-in page, paying there
// activates the plan, and the simulated provider's state (its customer, for
// the portal) survives a restart.
func TestEmbeddedDefaultSimulatesPayments(t *testing.T) {
	env := map[string]string{"GELLHUB_DATA_DIR": t.TempDir(), "GELLHUB_RATE_LIMITS": "off"}
	base, _, stop := start(t, env)
	c := newClient(t, base)
	status, reg, raw := c.call("POST", "/api/register", map[string]any{
		"email": "payer@example.com", "password": "a long password", "displayName": "Payer", "accountType": "drive",
		"planId": "plan_drive_plus_monthly", "successUrl": "https://app.example/done?sid={CHECKOUT_SESSION_ID}",
	})
	require.Equal(t, http.StatusCreated, status, "%s", raw)
	key := reg["driveApiKey"].(string)
	checkout, err := url.Parse(reg["checkoutUrl"].(string))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(checkout.Path, "/billing/local/checkout/"), checkout.String())

	status, _, page := c.call("GET", checkout.Path, nil)
	require.Equal(t, http.StatusOK, status)
	tok := tokenField.FindSubmatch(page)
	require.NotNil(t, tok, "%s", page)
	res := c.form(checkout.Path, url.Values{"token": {string(tok[1])}, "action": {"pay"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.True(t, strings.HasPrefix(res.Header.Get("Location"), "https://app.example/done?sid=cs_local_"), res.Header.Get("Location"))

	_, st, _ := c.call("GET", "/api/billing/status", nil, "x-api-key", key)
	require.Equal(t, "active", st["stripeStatus"])
	require.Equal(t, "plan_drive_plus_monthly", st["plan"].(map[string]any)["id"])
	status, _, _ = c.call("POST", "/api/webhooks/stripe", map[string]any{}, "Stripe-Signature", "t=1,v1=00")
	require.Equal(t, http.StatusNotFound, status, "no Stripe webhook without Stripe")
	require.NoError(t, stop())

	base, _, stop = start(t, env)
	defer func() { require.NoError(t, stop()) }()
	c.base = base
	status, portal, raw := c.call("POST", "/api/billing/portal", map[string]any{"returnUrl": "https://app.example/"}, "x-api-key", key)
	require.Equal(t, http.StatusOK, status, "the simulated customer survived the restart: %s", raw)
	require.Contains(t, portal["url"], "/billing/local/portal/")
	status, inv, _ := c.call("GET", "/api/billing/invoices", nil, "x-api-key", key)
	require.Equal(t, http.StatusOK, status)
	require.Len(t, inv["invoices"].([]any), 1)
}

// TestStripeConfiguredRunsOnTheStripeAdapter starts the real program with
// Stripe's settings, against stripe-mock.
func TestStripeConfiguredRunsOnTheStripeAdapter(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"GELLHUB_DATA_DIR": t.TempDir(), "GELLHUB_RATE_LIMITS": "off",
		"STRIPE_SECRET_KEY": stripetest.SecretKey, "STRIPE_WEBHOOK_SECRET": "whsec_main_test",
		"GELLHUB_STRIPE_API_BASE": stripetest.Start(t),
	}
	base, logs, stop := start(t, env)
	defer func() { require.NoError(t, stop()) }()
	c := newClient(t, base)
	require.NotContains(t, logs.String(), "SIMULATED")
	require.Contains(t, logs.String(), `"provider":"stripe"`)
	require.NotContains(t, logs.String(), stripetest.SecretKey)
	require.NotContains(t, logs.String(), "whsec_main_test")

	body := []byte(`{"id":"evt_1","object":"event","type":"invoice.paid","data":{"object":{"id":"in_1"}}}`)
	status, _, raw := c.call("POST", "/api/webhooks/stripe", nil)
	require.Equal(t, http.StatusBadRequest, status, "%s", raw)
	req, err := http.NewRequest("POST", base+"/api/webhooks/stripe", strings.NewReader(string(body)))
	require.NoError(t, err)
	req.Header.Set("Stripe-Signature", stripetest.Sign(body, time.Now(), "whsec_main_test"))
	res, err := c.http.Do(req)
	require.NoError(t, err)
	_ = res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	status, _, _ = c.call("GET", "/billing/local/checkout/cs_local_x", nil)
	require.Equal(t, http.StatusNotFound, status, "no simulated pages with Stripe")
}
