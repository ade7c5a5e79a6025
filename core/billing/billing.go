// Package billing holds the billing use cases: checkout for any product
// line (a free plan at once, a paid one through the payment provider), the
// customer portal, invoices, webhook sync of subscriptions through a
// durable event inbox, the embedded default's simulated checkout, and the
// sync of the plan catalog to the provider's prices.
//
// The eligibility rule (core.Eligible) lives in core; storage limits and
// messaging credits follow the subscription's plan, which this package
// keeps in step with the provider.
package billing

import (
	"context"
	"io"
	"strings"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/accounts"
	"github.com/gellhub/gellhub/core/plans"
	"github.com/gellhub/gellhub/ports"
)

// DashboardPath is where the browser returns after a checkout or the
// portal when the caller gave no URL of its own.
const DashboardPath = "/dashboard"

// Limits.
const (
	// MaxListed is how many invoices (and charges) GET invoices returns.
	MaxListed = 100
	// RetryBatch is how many due events one RetryDue run applies.
	RetryBatch = 100
	// FirstRetry is the delay after the first failed attempt; each further
	// failure doubles it, up to MaxRetryDelay.
	FirstRetry    = 30 * time.Second
	MaxRetryDelay = 6 * time.Hour
	// MaxAttempts caps the failed attempts at applying one event: the
	// failure that reaches it marks the event dead (kept in the inbox, no
	// longer retried) and alerts operators. With the backoff above the
	// attempts span about two and a half days.
	MaxAttempts = 20
	// ApplyTimeout bounds one attempt at applying one event (the provider
	// calls and the transaction). A webhook's event is applied in the
	// background after the delivery was acknowledged, within this bound.
	ApplyTimeout = 20 * time.Second
	maxReasonLen = 500
)

// Config wires a Service. Accounts, Store, Plans, PlanStore, Payments,
// Clock and Random are required. Verifier is required for provider
// webhooks; Simulator only on the embedded default.
type Config struct {
	Accounts  ports.AccountStore
	Store     ports.BillingStore
	Plans     *plans.Service
	PlanStore ports.PlanStore
	Payments  ports.Payments
	Verifier  ports.WebhookVerifier  // nil: webhooks are refused
	Simulator ports.PaymentSimulator // nil: no simulated payment pages
	Clock     ports.Clock
	Random    io.Reader
	BaseURL   string
	// Report receives failures that must not fail a request (an event
	// that could not be applied yet and will be retried).
	Report func(ctx context.Context, err error)
	// Alert receives the failures an operator must act on: an event given
	// up as dead after MaxAttempts failed attempts (once per event). Nil:
	// Report.
	Alert func(ctx context.Context, err error)
	// ApplyTimeout bounds one attempt at applying an event; 0 is
	// ApplyTimeout (tests shorten it).
	ApplyTimeout time.Duration
}

// Service runs the billing use cases. Close it when done: it stops the
// background application of webhook events.
type Service struct {
	cfg Config
	bg  *background
}

// New returns a Service.
func New(cfg Config) *Service {
	if cfg.Report == nil {
		cfg.Report = func(context.Context, error) {}
	}
	if cfg.Alert == nil {
		cfg.Alert = cfg.Report
	}
	if cfg.ApplyTimeout <= 0 {
		cfg.ApplyTimeout = ApplyTimeout
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	return &Service{cfg: cfg, bg: newBackground()}
}

func (s *Service) now() time.Time { return s.cfg.Clock.Now().UTC().Truncate(time.Microsecond) }

// Simulated reports whether payments are simulated (the embedded default's
// localbilling page instead of a provider).
func (s *Service) Simulated() bool { return s.cfg.Simulator != nil }

func (s *Service) dashboard() string { return s.cfg.BaseURL + DashboardPath }

// customer returns the provider customer of the profile's line, creating
// it (once: the store keeps the first) when there is none.
func (s *Service) customer(ctx context.Context, profileID, email string, line core.ProductLine) (string, error) {
	c, err := s.cfg.Store.BillingCustomer(ctx, profileID, line)
	if err == nil {
		return c.CustomerID, nil
	}
	if !core.IsKind(err, core.KindNotFound) {
		return "", core.Errorf("billing customer", err)
	}
	id, err := s.cfg.Payments.EnsureCustomer(ctx, ports.CustomerParams{ProfileID: profileID, Email: email, Line: line})
	if err != nil {
		return "", core.Errorf("create customer", err)
	}
	c, err = s.cfg.Store.SaveBillingCustomer(ctx, core.BillingCustomer{ProfileID: profileID, Line: line, CustomerID: id, CreatedAt: s.now()})
	if err != nil {
		return "", core.Errorf("save customer", err)
	}
	return c.CustomerID, nil
}

// Payments returns the payment port with one concern added: every checkout
// it opens is for the profile's own customer of the line, created once.
// Registration and embedded connect open their checkouts through it.
func (s *Service) Payments() ports.Payments { return customerPayments{Payments: s.cfg.Payments, s: s} }

type customerPayments struct {
	ports.Payments
	s *Service
}

func (p customerPayments) CreateCheckoutSession(ctx context.Context, cp ports.CheckoutParams) (core.CheckoutSession, error) {
	if cp.CustomerID == "" && cp.ProfileID != "" {
		id, err := p.s.customer(ctx, cp.ProfileID, cp.Email, cp.Line)
		if err != nil {
			return core.CheckoutSession{}, err
		}
		cp.CustomerID = id
	}
	if cp.CancelURL == "" {
		cp.CancelURL = p.s.dashboard() + "?checkout=cancel"
	}
	if cp.SuccessURL == "" {
		cp.SuccessURL = p.s.dashboard() + "?checkout=success&session_id={CHECKOUT_SESSION_ID}"
	}
	return p.Payments.CreateCheckoutSession(ctx, cp)
}

// RegistrationCheckout is billing as registration needs it (accounts.Checkout).
func (s *Service) RegistrationCheckout() accounts.Checkout { return accounts.CheckoutVia(s.Payments()) }
