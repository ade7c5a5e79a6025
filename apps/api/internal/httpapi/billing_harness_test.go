package httpapi

import (
	"context"
	"crypto/rand"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/adapters/localbilling"
	"github.com/gellhub/gellhub/adapters/stripe"
	"github.com/gellhub/gellhub/adapters/stripe/stripetest"
	"github.com/gellhub/gellhub/core/billing"
	"github.com/gellhub/gellhub/core/plans"
	"github.com/gellhub/gellhub/ports"
	"github.com/gellhub/gellhub/testkit"
)

// testWebhookSecret is the webhook signing secret of the test servers'
// Stripe endpoint; tests sign their events with it (stripetest.Sign).
const testWebhookSecret = "whsec_gellhub_test_secret"

// newTestBilling wires billing for newTestServer: testkit.Payments (kept
// in ts.payments) when o.payments is set, localbilling (the embedded
// default, simulated pages and no webhook) for o.billing "local", or the
// Stripe adapter on a fresh stripe-mock for "stripe-mock". The provider
// webhooks are verified with testWebhookSecret.
func newTestBilling(t testing.TB, ts *testServer, ps *plans.Service, o options, log *slog.Logger) *billing.Service {
	t.Helper()
	cfg := billing.Config{
		Accounts: ts.store, Store: ts.store, Plans: ps, PlanStore: ts.store, Clock: ts.clock, Random: rand.Reader,
		BaseURL: o.baseURL,
		Report:  func(ctx context.Context, err error) { log.WarnContext(ctx, "billing side effect failed", "err", err) },
	}
	var pay ports.Payments
	switch {
	case o.billing == "local":
		lb, err := localbilling.New(localbilling.Config{Store: ts.store, Clock: ts.clock, Random: rand.Reader, BaseURL: o.baseURL})
		require.NoError(t, err)
		pay, cfg.Simulator = lb, lb
	case o.billing == "stripe-mock":
		p, err := stripe.New(stripe.Config{SecretKey: stripetest.SecretKey, APIBase: stripetest.Start(t), MaxNetworkRetries: -1})
		require.NoError(t, err)
		pay = p
	case o.payments:
		ts.payments = testkit.NewPayments(ts.clock)
		pay = ts.payments
	default:
		t.Fatalf("unknown billing %q", o.billing)
	}
	cfg.Payments = pay
	if cfg.Simulator == nil {
		v, err := stripe.NewWebhookVerifier(testWebhookSecret)
		require.NoError(t, err)
		cfg.Verifier = v
	}
	svc := billing.New(cfg)
	t.Cleanup(svc.Close) // before the store closes: cleanups run last first
	return svc
}
