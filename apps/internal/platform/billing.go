package platform

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"

	"github.com/gellhub/gellhub/adapters/localbilling"
	"github.com/gellhub/gellhub/adapters/stripe"
	"github.com/gellhub/gellhub/apps/internal/config"
	"github.com/gellhub/gellhub/core/billing"
)

// openBilling builds the billing service on Stripe when STRIPE_SECRET_KEY
// is set, else on the simulated provider (localbilling), which config
// refuses in production and which is announced loudly here. Secrets are
// never logged.
//
// The service applies webhook events in background goroutines, each
// bounded by billing.ApplyTimeout; Close stops them (billing.Service.Close
// cancels those in flight and waits for them) before the database closes,
// their events staying due for billing.retry_events.
func (p *Platform) openBilling(cfg config.Config, log *slog.Logger) error {
	bc := billing.Config{
		Accounts: p.Store, Store: p.Store, Plans: p.Plans, PlanStore: p.Store, Clock: p.Clock, Random: rand.Reader,
		BaseURL: cfg.BaseURL,
		Report:  func(ctx context.Context, err error) { log.WarnContext(ctx, "billing side effect failed", "err", err) },
		Alert: func(ctx context.Context, err error) {
			log.ErrorContext(ctx, "payment event dead: it is no longer retried; apply it by hand (docs/operations.md)", "err", err)
		},
	}
	if cfg.SimulatedPayments() {
		lb, err := localbilling.New(localbilling.Config{Store: p.Store, Clock: p.Clock, Random: rand.Reader, BaseURL: cfg.BaseURL})
		if err != nil {
			return err
		}
		bc.Payments, bc.Simulator = lb, lb
		log.Warn("PAYMENTS ARE SIMULATED: STRIPE_SECRET_KEY is not set, so checkouts open gellhub's own test page "+
			"(/billing/local/checkout/…) and no money moves. Set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET to take real payments; "+
			"GELLHUB_ENV=production refuses to start without them.", "payments", "simulated")
		p.setBilling(billing.New(bc))
		return nil
	}
	sp, err := stripe.New(stripe.Config{SecretKey: cfg.Stripe.SecretKey, APIBase: cfg.Stripe.APIBase})
	if err != nil {
		return fmt.Errorf("stripe: %w", err)
	}
	bc.Payments = sp
	if len(cfg.Stripe.WebhookSecrets) > 0 {
		if bc.Verifier, err = stripe.NewWebhookVerifier(cfg.Stripe.WebhookSecrets...); err != nil {
			return fmt.Errorf("stripe: %w", err)
		}
	} else {
		log.Warn("STRIPE_WEBHOOK_SECRET is not set: POST /api/webhooks/stripe answers 404 and payments never reach the subscriptions")
	}
	log.Info("payments ready", "provider", "stripe", "api_version", stripe.APIVersion,
		"test_mode", len(cfg.Stripe.SecretKey) > 8 && cfg.Stripe.SecretKey[3:8] == "test_", "webhook_secrets", len(cfg.Stripe.WebhookSecrets))
	p.setBilling(billing.New(bc))
	return nil
}

// setBilling keeps svc and has Close stop it before the adapters opened
// earlier (the database) are closed.
func (p *Platform) setBilling(svc *billing.Service) {
	p.Billing = svc
	p.closers = append(p.closers, func() error { svc.Close(); return nil })
}
